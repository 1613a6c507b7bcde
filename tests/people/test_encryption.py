"""No ID number or phone is stored in plaintext: not in the columns, not anywhere in the file;
and every ciphertext is bound to its field and its row, so one copied elsewhere does not open."""

import os
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from hypothesis import given
from hypothesis import strategies as st

from epigrid.accounts.audit import Actor
from epigrid.declarations.services import tips
from epigrid.lib.crypto import DecryptionError, FieldCipher, cipher
from epigrid.people.models import Person
from epigrid.people.services import ID_FIELD, PHONE_FIELD

GRID = "320583001001001"
NUMBER = "11010519491231002X"
PHONE = "13987654321"


@pytest.fixture
def registered(world, system):
    from epigrid.people.services import PersonInput, register_person

    return register_person(
        actor=system,
        data=PersonInput(
            doc_type="resident_id",
            id_number=NUMBER,
            name="钱学森",
            division_code=GRID,
            phone=PHONE,
            address="前进路8号",
        ),
    )


def test_it_stores_only_ciphertext_in_the_columns(registered):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM people_person WHERE id_number_bidx = %s", [registered.id_number_bidx])
        row = cursor.fetchone()
    raw = b"".join(
        bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row if v is not None
    )
    for secret in (NUMBER, PHONE, NUMBER[6:14], PHONE[3:]):
        assert secret.encode() not in raw
    assert cipher().decrypt(ID_FIELD, registered.id_number_enc, row=registered.pk) == NUMBER


@pytest.mark.django_db(transaction=True)
def test_it_leaves_no_plaintext_in_the_database_file(world, system):
    from epigrid.people.services import PersonInput, register_person

    register_person(
        actor=system,
        data=PersonInput(
            doc_type="resident_id", id_number=NUMBER, name="钱学森", division_code=GRID, phone=PHONE
        ),
    )
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            # PostgreSQL: read every text representation of every row of every table
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            for (table,) in cursor.fetchall():
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s OR t::text LIKE %s',
                    [f"%{NUMBER}%", f"%{PHONE}%"],
                )
                assert cursor.fetchone()[0] == 0, table
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(FULL)")
    path = connection.settings_dict["NAME"]
    data = Path(path).read_bytes()
    wal_path = Path(f"{path}-wal")
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    assert len(data) > 0
    for blob in (data, wal):
        assert NUMBER.encode() not in blob
        assert PHONE.encode() not in blob
        assert NUMBER.encode("utf-16-le") not in blob


def test_a_ciphertext_does_not_open_under_another_field_or_key(registered):
    with pytest.raises(DecryptionError):
        cipher().decrypt(PHONE_FIELD, registered.id_number_enc, row=registered.pk)
    with pytest.raises(DecryptionError):
        FieldCipher("another key").decrypt(ID_FIELD, registered.id_number_enc, row=registered.pk)


def test_old_rows_still_open_after_a_key_rotation():
    row = uuid.uuid4()
    old = FieldCipher("old root key")
    blob = old.encrypt(ID_FIELD, NUMBER, row=row)
    rotated = FieldCipher("new root key", old_root_keys=("old root key",))
    assert rotated.decrypt(ID_FIELD, blob, row=row) == NUMBER
    assert rotated.encrypt(ID_FIELD, NUMBER, row=row)[1:5] != blob[1:5]
    assert rotated.rebind(ID_FIELD, blob, row=row)[1:5] == rotated.encrypt(ID_FIELD, NUMBER, row=row)[1:5]


def test_the_blind_index_is_keyed():
    assert FieldCipher("a").blind_index("document", NUMBER) != FieldCipher("b").blind_index(
        "document", NUMBER
    )
    assert FieldCipher("a").blind_index("document", NUMBER) == FieldCipher("a").blind_index(
        "document", NUMBER
    )


# --- bound to the row ----------------------------------------------------------------------------


def _swap(model, column: str, a, b) -> None:
    """What someone with write access to the database could do: exchange two rows' values."""
    first, second = (bytes(getattr(model.objects.get(pk=pk), column)) for pk in (a, b))
    model.objects.filter(pk=a).update(**{column: second})
    model.objects.filter(pk=b).update(**{column: first})


def test_it_refuses_a_phone_and_an_id_number_swapped_between_two_persons(make_person, persona):
    from epigrid.people.services import reveal

    a = make_person(GRID, name="钱学森", phone="13987654321")
    b = make_person(GRID, name="邓稼先", phone="13911112222")
    _swap(Person, "phone_enc", a.pk, b.pk)
    _swap(Person, "id_number_enc", a.pk, b.pk)
    cdc = Actor(user=persona("cdc"))

    for person in Person.objects.filter(pk__in=[a.pk, b.pk]):
        for field_name in ("phone", "id_number"):
            # before rows were bound, a's page showed b's phone as a's
            with pytest.raises(DecryptionError):
                reveal(actor=cdc, person=person, field_name=field_name)


def test_it_refuses_a_tip_reporter_swapped_between_two_tips(world, persona):
    from epigrid.declarations.models import Tip
    from epigrid.declarations.services import TipInput, reveal_reporter, submit_tip

    public = Actor.system("self")
    one = submit_tip(
        actor=public,
        data=TipInput(GRID, "前进路1号", reporter_name="甲", reporter_phone="13800000001"),
    )
    two = submit_tip(
        actor=public,
        data=TipInput(GRID, "前进路2号", reporter_name="乙", reporter_phone="13800000002"),
    )
    _swap(Tip, "reporter_phone_enc", one.pk, two.pk)
    _swap(Tip, "reporter_name_enc", one.pk, two.pk)

    with pytest.raises(DecryptionError):
        reveal_reporter(actor=Actor(user=persona("cdc")), tip=Tip.objects.get(pk=one.pk))


def test_it_refuses_a_signing_key_swapped_between_two_keys(db, system):
    from epigrid.healthcode import keys
    from epigrid.healthcode.models import SigningKey

    keys.signer()
    keys.rotate_keys(actor=system)
    first, second = SigningKey.objects.order_by("id")
    _swap(SigningKey, "private_key_enc", first.pk, second.pk)
    keys._PRIVATE.clear()

    with pytest.raises(DecryptionError):
        keys.private_key(SigningKey.objects.get(pk=first.pk))


def _persons(make_person, persona):
    a, b = make_person(GRID, phone="13987654321"), make_person(GRID, phone="13911112222")
    return [a.pk, b.pk], {"id_number_enc": ID_FIELD, "phone_enc": PHONE_FIELD}


def _pushed_rows(make_person, persona):
    from django.utils import timezone

    from epigrid.declarations.models import PushedRow
    from epigrid.declarations.services import pushed_checks, pushed_upload

    arrived = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M")
    lines = ["证件号码,姓名,手机号码,来源地,到达时间,地址,区划代码,交通方式,班次车牌"] + [
        f"{number},王芳,1390000000{i},湖北省武汉市,{arrived},,{GRID},火车,G1"
        for i, number in enumerate(["11010519491231002X", "420106199503140025"])
    ]
    listed = pushed_upload.upload(
        actor=Actor(user=persona("data_team")),
        name="list",
        source="transport",
        file_name="list.csv",
        data="\n".join(lines).encode(),
    )
    rows = PushedRow.objects.filter(pushed_list=listed).order_by("row_number")
    return list(rows.values_list("pk", flat=True)), {
        "id_number_enc": pushed_checks.ROW_ID_FIELD,
        "phone_enc": pushed_checks.ROW_PHONE_FIELD,
    }


def _tips(make_person, persona):
    from epigrid.declarations import services

    made = [
        services.submit_tip(
            actor=Actor.system("self"),
            data=services.TipInput(
                GRID,
                "前进路1号",
                subject_phone=f"1370000000{i}",
                reporter_name=f"甲{i}",
                reporter_phone=f"1380000000{i}",
            ),
        )
        for i in range(2)
    ]
    return [t.pk for t in made], {
        "subject_phone_enc": tips.TIP_PHONE_FIELD,
        "reporter_name_enc": tips.REPORTER_NAME_FIELD,
        "reporter_phone_enc": tips.REPORTER_PHONE_FIELD,
    }


def _units(make_person, persona):
    from epigrid.units.services import CONTACT_PHONE_FIELD, UnitInput, create_unit

    made = [
        create_unit(
            actor=Actor.system("test"),
            data=UnitInput("school", f"学校{i}", GRID, contact_phone=f"1360000000{i}"),
        )
        for i in range(2)
    ]
    return [u.pk for u in made], {"contact_phone_enc": CONTACT_PHONE_FIELD}


def _corrections(make_person, persona):
    from epigrid.healthcode.contact import CONTACT_FIELD
    from epigrid.healthcode.services import request_correction

    made = [
        request_correction(
            actor=Actor.system("self"), person=make_person(GRID), text="颜色不对，我没去过", contact=contact
        )
        for contact in ("13500000001", "wx: zhangsan")
    ]
    return [r.pk for r in made], {"contact_enc": CONTACT_FIELD}


def _signing_keys(make_person, persona):
    from epigrid.healthcode import keys

    keys.signer()
    keys.rotate_keys(actor=Actor.system("test"))
    return list(keys.SigningKey.objects.order_by("id").values_list("pk", flat=True)), {
        "private_key_enc": keys.KEY_FIELD
    }


SEALED = {
    "people.Person": (_persons, "pk"),
    "declarations.PushedRow": (_pushed_rows, "pk"),
    "declarations.Tip": (_tips, "pk"),
    "units.Unit": (_units, "pk"),
    "healthcode.CorrectionRequest": (_corrections, "pk"),
    "healthcode.SigningKey": (_signing_keys, "kid"),  # sealed before the row has its id
}


def test_every_encrypted_column_is_covered_by_the_swap_test():
    found = {
        f"{model._meta.app_label}.{model.__name__}.{field.name}"
        for model in apps.get_models()
        if model.__module__.startswith("epigrid.")
        for field in model._meta.get_fields()
        if isinstance(field, models.BinaryField) and field.name.endswith("_enc")
    }
    covered = {f"{label}.{column}" for label, (make, _) in SEALED.items() for column in _columns(make)}
    assert found == covered


def _columns(make) -> set[str]:
    return {
        _persons: {"id_number_enc", "phone_enc"},
        _pushed_rows: {"id_number_enc", "phone_enc"},
        _tips: {"subject_phone_enc", "reporter_name_enc", "reporter_phone_enc"},
        _units: {"contact_phone_enc"},
        _corrections: {"contact_enc"},
        _signing_keys: {"private_key_enc"},
    }[make]


@pytest.mark.parametrize("label", sorted(SEALED))
def test_it_refuses_every_ciphertext_swapped_between_two_rows(label, make_person, persona):
    model = apps.get_model(label)
    make, row_field = SEALED[label]
    (a, b), columns = make(make_person, persona)
    assert set(columns) == _columns(make)
    c = cipher()

    def opened(pk, column):
        obj = model.objects.get(pk=pk)
        return c.decrypt(columns[column], getattr(obj, column), row=getattr(obj, row_field))

    for column in columns:
        assert opened(a, column) and opened(b, column)  # each opens on its own row
        _swap(model, column, a, b)
        for pk in (a, b):
            with pytest.raises(DecryptionError):
                opened(pk, column)


# --- rows sealed before the row binding ----------------------------------------------------------


def _field_only(c: FieldCipher, field: str, plaintext: str) -> bytes:
    """A ciphertext as version 1 wrote it: the field name alone as associated data."""
    nonce = os.urandom(12)
    return bytes([1]) + c._fingerprint + nonce + c._aead.encrypt(nonce, plaintext.encode(), field.encode())


def test_a_version_1_ciphertext_still_opens_and_the_migration_binds_it_to_its_row(make_person):
    from epigrid.lib.rebind import rebind_table

    c = cipher()
    a, b = make_person(GRID, phone="13987654321"), make_person(GRID, phone="13911112222")
    for person, phone in ((a, "13987654321"), (b, "13911112222")):
        number = c.decrypt(ID_FIELD, person.id_number_enc, row=person.pk)
        Person.objects.filter(pk=person.pk).update(
            id_number_enc=_field_only(c, ID_FIELD, number), phone_enc=_field_only(c, PHONE_FIELD, phone)
        )
    a.refresh_from_db()
    assert c.decrypt(PHONE_FIELD, a.phone_enc, row=a.pk) == "13987654321"  # old rows keep opening

    columns = {"id_number_enc": ID_FIELD, "phone_enc": PHONE_FIELD}
    assert rebind_table(Person, columns, batch=1) == 2
    assert rebind_table(Person, columns) == 0  # a second run (a resumed one) rewrites nothing

    a.refresh_from_db()
    assert bytes(a.phone_enc)[0] == 2 and c.decrypt(PHONE_FIELD, a.phone_enc, row=a.pk) == "13987654321"
    _swap(Person, "phone_enc", a.pk, b.pk)
    with pytest.raises(DecryptionError):
        c.decrypt(PHONE_FIELD, Person.objects.get(pk=a.pk).phone_enc, row=a.pk)


@given(
    field=st.sampled_from([ID_FIELD, PHONE_FIELD, "tip.reporter_name", "healthcode.signing_key"]),
    plaintext=st.text(max_size=64),
    rows=st.lists(st.uuids() | st.text(min_size=1, max_size=12), min_size=2, max_size=2, unique=True),
)
def test_a_ciphertext_opens_on_its_own_row_and_field_only(field, plaintext, rows):
    c = FieldCipher("property key")
    mine, other = rows
    blob = c.encrypt(field, plaintext, row=mine)
    assert c.decrypt(field, blob, row=mine) == plaintext
    assert c.decrypt(field, blob, row=str(mine)) == plaintext  # a UUID as SQLite hands it back
    assert c.rebind(field, blob, row=mine) is None  # already sealed for its row
    if str(mine) != str(other):
        with pytest.raises(DecryptionError):
            c.decrypt(field, blob, row=other)
    with pytest.raises(DecryptionError):
        c.decrypt(field + ".other", blob, row=mine)
    # a version 1 ciphertext opens on any row until it is rebound, then on its own only
    old = _field_only(c, field, plaintext)
    assert c.decrypt(field, old, row=other) == plaintext
    assert c.decrypt(field, c.rebind(field, old, row=mine), row=mine) == plaintext
