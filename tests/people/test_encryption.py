"""No ID number or phone is stored in plaintext: not in the columns, not anywhere in the file."""

from pathlib import Path

import pytest
from django.db import connection

from epigrid.lib.crypto import DecryptionError, FieldCipher, cipher
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
    assert cipher().decrypt(ID_FIELD, registered.id_number_enc) == NUMBER


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
        cipher().decrypt(PHONE_FIELD, registered.id_number_enc)
    with pytest.raises(DecryptionError):
        FieldCipher("another key").decrypt(ID_FIELD, registered.id_number_enc)


def test_old_rows_still_open_after_a_key_rotation():
    old = FieldCipher("old root key")
    blob = old.encrypt(ID_FIELD, NUMBER)
    rotated = FieldCipher("new root key", old_root_keys=("old root key",))
    assert rotated.decrypt(ID_FIELD, blob) == NUMBER
    assert rotated.encrypt(ID_FIELD, NUMBER)[1:5] != blob[1:5]


def test_the_blind_index_is_keyed():
    assert FieldCipher("a").blind_index("document", NUMBER) != FieldCipher("b").blind_index(
        "document", NUMBER
    )
    assert FieldCipher("a").blind_index("document", NUMBER) == FieldCipher("a").blind_index(
        "document", NUMBER
    )
