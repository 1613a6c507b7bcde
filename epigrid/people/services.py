"""The only writers of person records (R1.1), and the reads that need the data key.

Every function takes `actor=`; writes and reveals happen in one transaction with their audit
row. Callers pass persons they obtained through `visible_to`, and these functions check scope
again where a division changes, so a service can't be used to move someone out of reach.
"""

import re
import uuid
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import division_in_scope, visible_to
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, DomainError, Forbidden
from epigrid.lib.names import name_pinyin
from epigrid.people.models import Person, PersonMerge, Sex, Status

ID_FIELD = "person.id_number"
PHONE_FIELD = "person.phone"
DOCUMENT_INDEX = "document"  # one index space for every document type: a number is a number
PHONE_INDEX = "phone"


class PersonError(DomainError):
    pass


def _identity_error(exc: identity.InvalidIdentity, field_name: str) -> PersonError:
    return PersonError(exc.code, exc.message, field_name)


@dataclass
class PersonInput:
    doc_type: str
    id_number: str
    name: str
    division_code: str
    sex: str = ""
    birth_date: date | None = None
    phone: str = ""
    address: str = ""
    nationality: str = "CHN"
    source: str = "manual"
    household_id: object = None


@dataclass
class PersonChanges:
    name: str | None = None
    phone: str | None = None
    address: str | None = None
    division_code: str | None = None
    sex: str | None = None
    nationality: str | None = None
    changed: list[str] = field(default_factory=list)


def document_index(number: str) -> str:
    return cipher().blind_index(DOCUMENT_INDEX, number)


def phone_index(phone: str) -> str:
    return cipher().blind_index(PHONE_INDEX, phone)


def clean_name(name: str) -> str:
    value = re.sub(r"\s+", " ", str(name or "")).strip()
    if not value:
        raise PersonError("name_missing", _("The name is required."), "name")
    if len(value) > 64:
        raise PersonError("name_length", _("The name is longer than 64 characters."), "name")
    return value


_NAME_KEY_STRIP = re.compile(r"[^a-z0-9]")


def name_key(name: str) -> str:
    """Pinyin without spaces: homophone typos from an input method map to the same key."""
    return _NAME_KEY_STRIP.sub("", name_pinyin(name))


def validated(data: PersonInput) -> dict:
    """Check every field and return the column values to store. Raises PersonError on the
    first problem, naming the field."""
    try:
        number = identity.normalise_document(data.doc_type, data.id_number)
    except identity.InvalidIdentity as exc:
        raise _identity_error(exc, "doc_type" if exc.code == "document_type" else "id_number")
    name = clean_name(data.name)
    sex = data.sex or Sex.UNKNOWN
    if sex not in Sex.values:
        raise PersonError("sex_invalid", _("Sex must be M, F or U."), "sex")
    birth_date = data.birth_date
    nationality = (data.nationality or "CHN").upper()
    if data.doc_type == identity.RESIDENT_ID:
        parsed = identity.parse_resident_id(number)
        if birth_date and birth_date != parsed.birth_date:
            raise PersonError(
                "birth_date_mismatch", _("The date of birth differs from the ID number."), "birth_date"
            )
        if sex != Sex.UNKNOWN and sex != parsed.sex:
            raise PersonError("sex_mismatch", _("The sex differs from the ID number."), "sex")
        birth_date, sex, nationality = parsed.birth_date, parsed.sex, "CHN"
    if birth_date and birth_date > date.today():
        raise PersonError("birth_date_future", _("The date of birth is in the future."), "birth_date")
    if not re.fullmatch(r"[A-Z]{3}", nationality):
        raise PersonError(
            "nationality_invalid", _("Nationality is a three-letter ISO 3166 code."), "nationality"
        )
    phone = ""
    if data.phone:
        try:
            phone = identity.normalise_phone(data.phone)
        except identity.InvalidIdentity as exc:
            raise _identity_error(exc, "phone")
    address = str(data.address or "").strip()
    if len(address) > 255:
        raise PersonError("address_length", _("The address is longer than 255 characters."), "address")
    return {
        "number": number,
        "name": name,
        "sex": sex,
        "birth_date": birth_date,
        "nationality": nationality,
        "phone": phone,
        "address": address,
    }


def encrypted_columns(doc_type: str, number: str, phone: str, *, row) -> dict:
    """The identifier columns of the person whose id is `row` (bound into the ciphertexts)."""
    c = cipher()
    columns = {
        "doc_type": doc_type,
        "id_number_enc": c.encrypt(ID_FIELD, number, row=row),
        "id_number_bidx": c.blind_index(DOCUMENT_INDEX, number),
        "id_number_masked": identity.mask_document(number),
        "phone_enc": c.encrypt(PHONE_FIELD, phone, row=row) if phone else None,
        "phone_bidx": c.blind_index(PHONE_INDEX, phone) if phone else "",
        "phone_masked": identity.mask_phone(phone) if phone else "",
    }
    return columns


def _check_division(actor: Actor, division_code: str) -> None:
    from epigrid.regions.models import Division

    if not division_code or not Division.objects.filter(code=division_code).exists():
        raise PersonError("division_unknown", _("Choose a division that exists."), "division_code")
    if actor.user is not None and not division_in_scope(actor.user, division_code):
        # the same answer as an unknown division: a user learns nothing about other areas
        raise PersonError("division_unknown", _("Choose a division that exists."), "division_code")


def register_person(*, actor: Actor, data: PersonInput) -> Person:
    values = validated(data)
    _check_division(actor, data.division_code)
    now = timezone.now()
    with transaction.atomic():
        bidx = document_index(values["number"])
        existing = Person.objects.filter(id_number_bidx=bidx, status=Status.ACTIVE).first()
        if existing is not None:
            raise Conflict(
                "person_exists", _("A person with this document number is already registered."), "id_number"
            )
        pk = uuid.uuid4()
        person = Person.objects.create(
            id=pk,
            **encrypted_columns(data.doc_type, values["number"], values["phone"], row=pk),
            name=values["name"],
            name_pinyin=name_key(values["name"]),
            sex=values["sex"],
            birth_date=values["birth_date"],
            nationality=values["nationality"],
            address=values["address"],
            division_code=data.division_code,
            household_id=data.household_id,
            source=data.source,
            registered_at=now,
            updated_at=now,
        )
        record(
            actor,
            "create",
            object_type="person",
            object_id=person.pk,
            division_code=person.division_code,
            fields=[
                "doc_type",
                "id_number",
                "name",
                "sex",
                "birth_date",
                "phone",
                "address",
                "division_code",
            ],
        )
    return person


def update_person(*, actor: Actor, person: Person, changes: PersonChanges) -> Person:
    if person.is_merged:
        raise Conflict("person_merged", _("This record was merged; edit the surviving record."))
    touched: list[str] = []
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if changes.name is not None:
            name = clean_name(changes.name)
            if name != person.name:
                person.name, person.name_pinyin = name, name_key(name)
                touched.append("name")
        if changes.phone is not None:
            if changes.phone == "":
                person.phone_enc, person.phone_bidx, person.phone_masked = None, "", ""
            else:
                try:
                    phone = identity.normalise_phone(changes.phone)
                except identity.InvalidIdentity as exc:
                    raise _identity_error(exc, "phone")
                c = cipher()
                person.phone_enc = c.encrypt(PHONE_FIELD, phone, row=person.pk)
                person.phone_bidx = c.blind_index(PHONE_INDEX, phone)
                person.phone_masked = identity.mask_phone(phone)
            touched.append("phone")
        if changes.address is not None:
            address = changes.address.strip()
            if len(address) > 255:
                raise PersonError(
                    "address_length", _("The address is longer than 255 characters."), "address"
                )
            if address != person.address:
                person.address = address
                touched.append("address")
        if changes.division_code is not None and changes.division_code != person.division_code:
            _check_division(actor, changes.division_code)
            person.division_code = changes.division_code
            touched.append("division_code")
        if changes.sex is not None and changes.sex != person.sex:
            if person.doc_type == identity.RESIDENT_ID:
                raise PersonError("sex_from_id", _("Sex follows from the resident ID number."), "sex")
            if changes.sex not in Sex.values:
                raise PersonError("sex_invalid", _("Sex must be M, F or U."), "sex")
            person.sex = changes.sex
            touched.append("sex")
        if not touched:
            return person
        person.updated_at = timezone.now()
        person.save()
        record(
            actor,
            "update",
            object_type="person",
            object_id=person.pk,
            division_code=person.division_code,
            fields=touched,
        )
    return person


REVEALABLE = {"id_number": ("id_number_enc", ID_FIELD), "phone": ("phone_enc", PHONE_FIELD)}


def reveal(*, actor: Actor, person: Person, field_name: str, purpose: str = "") -> str:
    """Decrypt one identifier for an authorised user, writing the audit row first."""
    if field_name not in REVEALABLE:
        raise PersonError("field_invalid", _("Only id_number and phone can be revealed."), "field")
    if actor.user is None or not actor.user.has_epigrid_perm(Perm.PEOPLE_REVEAL):
        raise Forbidden("reveal_forbidden", _("Your role may not reveal identifiers."))
    column, aad = REVEALABLE[field_name]
    blob = getattr(person, column)
    if not blob:
        return ""
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="person",
            object_id=person.pk,
            division_code=person.division_code,
            fields=[field_name],
            note=purpose[:120],
        )
        return cipher().decrypt(aad, blob, row=person.pk)


# --- search -------------------------------------------------------------------------------

_DOCUMENT_LIKE = re.compile(r"^[0-9A-Za-z]{5,18}$")


def classify_query(q: str) -> str:
    """`document`, `phone` or `name`: which index a free-text search goes to."""
    value = re.sub(r"[\s\-()]", "", q or "")
    if not value:
        return "empty"
    if value.startswith("+") or (
        value.isdigit()
        and (len(value) == 11 and value.startswith("1") or value.startswith("0") and 10 <= len(value) <= 12)
    ):
        return "phone"
    if _DOCUMENT_LIKE.match(value) and any(ch.isdigit() for ch in value):
        return "document"
    return "name"


def _range_startswith(field_name: str, value: str) -> Q:
    # a half-open range serves prefix search from a plain b-tree on SQLite and PostgreSQL
    return Q(**{f"{field_name}__gte": value, f"{field_name}__lt": value + "\U0010ffff"})


def search(user, q: str, queryset: QuerySet | None = None, *, listing: bool = False) -> QuerySet:
    """Persons visible to `user` matching `q` by document number, phone or name.
    `listing=True` when the result is shown newest first, page by page."""
    kind = classify_query(q)
    base = visible_to(
        user, queryset if queryset is not None else Person.objects.all(), listing=listing and kind == "empty"
    )
    value = re.sub(r"[\s\-()]", "", q or "")
    if kind == "empty":
        return base
    if kind == "document":
        return base.filter(id_number_bidx=document_index(identity.compact(value)))
    if kind == "phone":
        try:
            return base.filter(phone_bidx=phone_index(identity.normalise_phone(value)))
        except identity.InvalidIdentity:
            return base.none()
    text = q.strip()
    if text.isascii():
        return base.filter(_range_startswith("name_pinyin", re.sub(r"[^a-z0-9]", "", text.lower())))
    return base.filter(_range_startswith("name", text))


# --- duplicates and merge ------------------------------------------------------------------

SAME_ID = "same_id"
SAME_PHONE_NAME = "same_phone_name"
SIMILAR_NAME_BIRTH = "similar_name_birth"


@dataclass
class DuplicateGroup:
    kind: str
    persons: list[Person]


def find_duplicates(user, *, limit: int = 100) -> list[DuplicateGroup]:
    """Candidate duplicates among the persons `user` may see, set-based: one GROUP BY per kind.

    - same document number (blind index);
    - same phone and same name;
    - same date of birth, same community and the same name key (pinyin), which catches the
      homophone typos an input method makes (张伟 / 章伟)."""
    active = visible_to(user, Person.objects.filter(status=Status.ACTIVE))
    groups: list[DuplicateGroup] = []
    seen_pairs: set[frozenset] = set()

    def collect(kind: str, keys_qs, key_fields: list[str]):
        for key in keys_qs[:limit]:
            members = list(active.filter(**{f: key[f] for f in key_fields}).order_by("registered_at", "id"))
            if kind == SIMILAR_NAME_BIRTH:
                members = [m for m in members if m.division_code[:12] == key["community"]]
            ids = frozenset(m.pk for m in members)
            if len(members) < 2 or ids in seen_pairs:
                continue
            seen_pairs.add(ids)
            groups.append(DuplicateGroup(kind, members))

    collect(
        SAME_ID,
        active.values("id_number_bidx").annotate(n=Count("id")).filter(n__gt=1).order_by("id_number_bidx"),
        ["id_number_bidx"],
    )
    collect(
        SAME_PHONE_NAME,
        active.exclude(phone_bidx="")
        .values("phone_bidx", "name")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("phone_bidx"),
        ["phone_bidx", "name"],
    )
    similar = (
        active.filter(birth_date__isnull=False)
        .annotate(community=Substr("division_code", 1, 12))
        .values("birth_date", "community", "name_pinyin")
        .annotate(
            n=Count("id"), names=Count("name", distinct=True), docs=Count("id_number_bidx", distinct=True)
        )
        .filter(n__gt=1, docs__gt=1)
        .order_by("birth_date")
    )
    collect(SIMILAR_NAME_BIRTH, similar, ["birth_date", "name_pinyin"])
    return groups[:limit]


def _relations_to_person():
    """Every foreign key in any app that points at Person, found from the model registry so
    a new app's links move on merge without this module knowing that app."""
    for rel in Person._meta.related_objects:
        if rel.related_model in (Person, PersonMerge) or not (rel.one_to_many or rel.one_to_one):
            continue
        yield rel.related_model, rel.field.name


def _move_links(survivor: Person, merged: Person, *, at) -> dict[str, int]:
    """Every row that points at `merged` moved to `survivor`: through the model's own merge
    hook (its app's service, given the merge's time) where it has one. How many, per link."""
    moved: dict[str, int] = {}
    for model, fk in _relations_to_person():
        hook = getattr(model, "on_person_merge", None)
        if hook is not None:
            count = hook(survivor=survivor, merged=merged, at=at)
        else:
            count = model._default_manager.filter(**{fk: merged}).update(**{fk: survivor})
        if count:
            moved[f"{model._meta.label_lower}.{fk}"] = count
    return moved


def _fill_empty_fields(survivor: Person, merged: Person) -> list[str]:
    """The survivor's empty fields taken from the merged record; the names filled."""
    filled = []
    for name in ("phone_enc", "address", "birth_date", "household_id"):
        if not getattr(survivor, name) and getattr(merged, name):
            if name == "phone_enc":
                # a ciphertext is bound to its row: the phone is sealed again for the survivor
                c = cipher()
                phone = c.decrypt(PHONE_FIELD, merged.phone_enc, row=merged.pk)
                survivor.phone_enc = c.encrypt(PHONE_FIELD, phone, row=survivor.pk)
                survivor.phone_bidx, survivor.phone_masked = merged.phone_bidx, merged.phone_masked
            else:
                setattr(survivor, name, getattr(merged, name))
            filled.append("phone" if name == "phone_enc" else name)
    return filled


def merge_persons(*, actor: Actor, survivor: Person, merged: Person, reason: str) -> PersonMerge:
    """Move every link of `merged` to `survivor`, fill the survivor's empty fields, and keep
    `merged` readable with a pointer to the survivor (R1.1, KS10-18)."""
    if actor.user is not None and not actor.user.has_epigrid_perm(Perm.PEOPLE_MERGE):
        raise Forbidden("merge_forbidden", _("Your role may not merge records."))
    if survivor.pk == merged.pk:
        raise PersonError("merge_same", _("Choose two different records."), "merged")
    with transaction.atomic():
        locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        if survivor.is_merged or merged.is_merged:
            raise Conflict("person_merged", _("One of the records was already merged."))
        now = timezone.now()
        moved = _move_links(survivor, merged, at=now)
        filled = _fill_empty_fields(survivor, merged)
        survivor.updated_at = now
        survivor.save()
        merged.status = Status.MERGED
        merged.merged_into = survivor
        merged.updated_at = now
        merged.save(update_fields=["status", "merged_into", "updated_at"])
        trace = PersonMerge.objects.create(
            survivor=survivor,
            merged=merged,
            reason=reason,
            moved=moved,
            filled_fields=filled,
            at=now,
            by=actor.user,
        )
        record(
            actor,
            "merge",
            object_type="person",
            object_id=survivor.pk,
            division_code=survivor.division_code,
            fields=filled,
            note=f"merged {merged.pk} ({reason})",
        )
        record(
            actor,
            "merge",
            object_type="person",
            object_id=merged.pk,
            division_code=merged.division_code,
            fields=["status", "merged_into"],
            note=f"into {survivor.pk} ({reason})",
        )
    return trace


# --- private links ------------------------------------------------------------------------


def _link_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def create_private_link(*, actor: Actor, person: Person, language: str = "zh-hans", days: int = 60) -> str:
    """A new private link token for the person's own status page (shown once, e.g. after a
    declaration). Earlier links keep working until they expire."""
    import secrets
    from datetime import timedelta

    from epigrid.people.models import PrivateLink

    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        link = PrivateLink.objects.create(
            person=person,
            token_hash=_link_hash(token),
            language=language[:8],
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        record(
            actor,
            "create",
            object_type="private_link",
            object_id=link.pk,
            division_code=person.division_code,
            fields=["person"],
        )
    return token


def person_for_link(token: str) -> Person | None:
    """The person behind a private link, or None for an unknown, expired or revoked one."""
    from epigrid.people.models import PrivateLink

    if not token or len(token) > 64:
        return None
    link = PrivateLink.objects.select_related("person").filter(token_hash=_link_hash(token)).first()
    now = timezone.now()
    if link is None or link.revoked_at or (link.expires_at and link.expires_at <= now):
        return None
    person = link.person
    while person.merged_into_id:  # a merged record's link leads to the surviving record
        person = Person.objects.get(pk=person.merged_into_id)
    person.link_language = link.language
    return person
