"""Entries into venues: the three ways in give one record (R5.1, R4.3).

`ingest_entries` is the one writer, for one entry (a person scanning the venue code, staff at
the door) and for a device's queue of thousands alike: every item is checked first (errors
name the item and the field: `entries[3].temperature`), then the whole batch lands in one
transaction or not at all. Ids come from the device, so a queue sent twice is stored once
(`lib.bulk.insert_new_rows`). What staff see back is a colour, a masked name and what the
entry rules ask; never an ID number.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib import identity
from epigrid.lib.bulk import insert_new_rows, insert_rows
from epigrid.lib.chinatime import local_date
from epigrid.lib.errors import DomainError, ErrorCollector
from epigrid.lib.sql import any_of
from epigrid.venues import gate
from epigrid.venues.models import Entry, EntryMethod, EntryRow, Venue, VenueStatus
from epigrid.venues.services.access import check_can_record

MAX_BATCH = 5000
_METHODS = frozenset(EntryMethod.values)
TEMPERATURE_RANGE = (Decimal("34.0"), Decimal("43.0"))
# how far ahead of the server's clock a device's time may be
CLOCK_SKEW = timedelta(minutes=5)


class EntryError(DomainError):
    pass


def retention_days() -> int:
    return int(getattr(settings, "EPIGRID_SCAN_RETENTION_DAYS", 28))


@dataclass
class EntryInput:
    """One entry as a device or a page sends it. Exactly one of `person_id` (the public scan
    page, which knows its person), `code_id` (a health code the device verified; 32 hex
    digits), `token` (a health code to verify here) and `document_number` names the person."""

    venue_id: object
    method: str
    entered_at: datetime
    id: object = None
    person_id: object = None
    code_id: str = ""
    token: str = ""
    document_number: str = ""
    temperature: object = None
    colour_seen: str = ""
    exited_at: datetime | None = None
    device_id: str = ""


@dataclass
class StoredEntry:
    id: uuid.UUID
    venue_id: uuid.UUID
    person_id: uuid.UUID | None
    entered_at: datetime
    colour: str
    holder: str  # the masked name
    admitted: bool
    actions: tuple[str, ...]
    steps: list
    new: bool


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    entries: list[StoredEntry] = field(default_factory=list)


@dataclass
class _Person:
    id: uuid.UUID | None
    name: str
    division_code: str
    colour: str
    issuer: str = ""


def _temperature(value, where: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        reading = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise EntryError("temperature_invalid", _("The temperature is not a number."), f"{where}.temperature")
    low, high = TEMPERATURE_RANGE
    if not low <= reading <= high:
        raise EntryError(
            "temperature_range",
            _("A body temperature lies between %(low)s and %(high)s °C.") % {"low": low, "high": high},
            f"{where}.temperature",
        )
    return reading


def _entry_id(value, where: str) -> uuid.UUID:
    if value in (None, ""):
        return uuid.uuid4()
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise EntryError("entry_id_invalid", _("An entry id is a UUID made on the device."), f"{where}.id")


def _times(item: EntryInput, where: str, now: datetime) -> None:
    if item.entered_at.tzinfo is None:
        raise EntryError(
            "time_naive", _("A time needs its zone (for example +08:00)."), f"{where}.entered_at"
        )
    if item.entered_at > now + CLOCK_SKEW:
        raise EntryError("time_future", _("The entry time lies in the future."), f"{where}.entered_at")
    if item.entered_at < now - timedelta(days=retention_days()):
        raise EntryError(
            "time_past_retention",
            _("Entries older than %(days)s days are not kept.") % {"days": retention_days()},
            f"{where}.entered_at",
        )
    if item.exited_at is not None and item.exited_at < item.entered_at:
        raise EntryError("exit_before_entry", _("The exit is before the entry."), f"{where}.exited_at")


def _who_names(item: EntryInput) -> int:
    return sum(bool(x) for x in (item.person_id, item.code_id, item.token, item.document_number))


def _check_item(item: EntryInput, where: str, now: datetime, errors: ErrorCollector) -> tuple:
    entry_id = errors.check(_entry_id, item.id, where)
    reading = errors.check(_temperature, item.temperature, where)
    errors.check(_times, item, where, now)
    if item.method not in _METHODS:
        errors.add(EntryError("method_invalid", _("Unknown way of entry."), f"{where}.method"))
    if _who_names(item) != 1:
        errors.add(
            EntryError(
                "person_missing",
                _("Name the person one way: a code or a document number."),
                f"{where}.person",
            )
        )
    return entry_id, reading


def _venues(ids: set, actor: Actor, errors: ErrorCollector, items) -> dict:
    found = {v.pk: v for v in Venue.objects.filter(pk__in=list(ids)).select_related("type")}
    allowed: dict = {}  # venue id → whether the actor records there, asked once per venue
    for i, item in enumerate(items):
        venue = found.get(_as_uuid(item.venue_id))
        where = f"entries[{i}].venue_id"
        if venue is None or venue.status != VenueStatus.APPROVED:
            errors.add(EntryError("venue_unknown", _("No such venue is open for entries."), where))
        elif item.method != EntryMethod.VENUE_CODE:
            if venue.pk not in allowed:
                allowed[venue.pk] = (
                    errors.check(check_can_record, actor, venue, field=where, default=False) is None
                )
            elif not allowed[venue.pk]:
                errors.add(EntryError("venue_unknown", _("No such venue is open for entries."), where))
    return found


def _as_uuid(value):
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def _people(items: list[EntryInput], now: datetime, errors: ErrorCollector) -> list[_Person | None]:
    """Each item's person, found in a handful of queries for the whole batch."""
    from epigrid.healthcode.models import HealthCode
    from epigrid.people.models import Person
    from epigrid.people.services import document_index

    by_code, by_doc, by_id = {}, {}, {}
    tokens: dict[int, object] = {}
    codes: dict[int, uuid.UUID | None] = {}  # each item's code id, parsed once
    for i, item in enumerate(items):
        if item.token:
            tokens[i] = _verified_token(item.token, item.entered_at, f"entries[{i}].token", errors)
            if tokens[i] is not None and tokens[i].code_id:
                by_code[uuid.UUID(bytes=tokens[i].code_id)] = None
        elif item.code_id:
            code = codes[i] = _as_uuid(item.code_id)
            if code is None:
                errors.add(
                    EntryError(
                        "code_invalid", _("A code id is 32 hexadecimal digits."), f"entries[{i}].code_id"
                    )
                )
            else:
                by_code[code] = None
        elif item.document_number:
            try:
                by_doc[document_index(identity.compact(item.document_number))] = None
            except DomainError as exc:
                errors.add(EntryError(exc.code, exc.message, f"entries[{i}].document_number"))
        elif item.person_id:
            by_id[_as_uuid(item.person_id)] = None
    columns = ("person_id", "person__name", "person__division_code", "colour")
    for code_id, *rest in any_of(HealthCode.objects, "code_id", list(by_code)).values_list(
        "code_id", *columns
    ):
        by_code[code_id] = _Person(rest[0], rest[1], rest[2], rest[3])
    people = Person.objects.filter(status="active")
    for bidx, pid, name, division, colour in any_of(people, "id_number_bidx", list(by_doc)).values_list(
        "id_number_bidx", "id", "name", "division_code", "health_code__colour"
    ):
        by_doc[bidx] = _Person(pid, name, division, colour or "")
    for pid, name, division, colour in any_of(people, "id", [p for p in by_id if p]).values_list(
        "id", "name", "division_code", "health_code__colour"
    ):
        by_id[pid] = _Person(pid, name, division, colour or "")
    _colour_the_uncoded([*by_doc.values(), *by_id.values()])
    out: list[_Person | None] = []
    own = _own_issuer() if tokens else ""
    for i, item in enumerate(items):
        person = None
        if i in tokens:
            token = tokens[i]
            if token is not None:
                person = by_code.get(uuid.UUID(bytes=token.code_id)) or _Person(
                    None, "", "", token.colour, token.issuer
                )
                if person.id is not None and token.issuer != own:
                    person = _Person(None, "", "", token.colour, token.issuer)
        elif item.code_id:
            person = by_code.get(codes[i])
            if person is None and codes[i] is not None:
                errors.add(
                    EntryError("code_unknown", _("No person holds this code here."), f"entries[{i}].code_id")
                )
        elif item.document_number:
            try:
                person = by_doc.get(document_index(identity.compact(item.document_number)))
            except DomainError:
                person = None
            if person is None and not errors.has(f"entries[{i}].document_number"):
                errors.add(
                    EntryError(
                        "person_unknown",
                        _("Nobody with this document number is registered: register the person first."),
                        f"entries[{i}].document_number",
                    )
                )
        elif item.person_id:
            person = by_id.get(_as_uuid(item.person_id))
            if person is None:
                errors.add(EntryError("person_unknown", _("No such person."), f"entries[{i}].person_id"))
        out.append(person)
    return out


def _colour_the_uncoded(people) -> None:
    """A person named by a document who never had a code gets one now (assessed on first
    need, as the code page does), so the door sees a colour, not a blank."""
    from epigrid.healthcode.services import ensure_code
    from epigrid.people.models import Person

    uncoded = [p for p in people if p is not None and not p.colour]
    for person in uncoded:
        person.colour = ensure_code(Person.objects.get(pk=person.id)).colour


def _own_issuer() -> str:
    from epigrid.healthcode.keys import issuer

    return issuer()


def _verified_token(token: str, at: datetime, where: str, errors: ErrorCollector):
    """A health code checked against the trust list as it stood when it was scanned: a queue
    uploaded an hour after the scans still holds codes that were valid at the door."""
    from epigrid.healthcode import tokens
    from epigrid.healthcode.keys import cached_trust_list
    from epigrid.healthcode.labels import REASONS, lang

    checked = tokens.verify(token.strip(), cached_trust_list(), at, leeway=CLOCK_SKEW)
    if not checked.valid:
        errors.add(EntryError("code_" + checked.reason.value, REASONS[checked.reason.value][lang()], where))
        return None
    return checked


def ingest_entries(*, actor: Actor, items: list[EntryInput], at: datetime | None = None) -> IngestResult:
    """Check every item, then store the batch whole or not at all; entries already stored
    (the same id and time) are counted as duplicates and answered as they were stored."""
    now = at or timezone.now()
    if not items:
        return IngestResult()
    if len(items) > MAX_BATCH:
        raise EntryError(
            "batch_too_large", _("At most %(n)s entries at a time.") % {"n": MAX_BATCH}, "entries"
        )
    errors = ErrorCollector()
    checked = [_check_item(item, f"entries[{i}]", now, errors) for i, item in enumerate(items)]
    venues = _venues({_as_uuid(i.venue_id) for i in items} - {None}, actor, errors, items)
    people = _people(items, now, errors)
    errors.raise_any()
    rows, answers = _rows(items, checked, venues, people, actor, now)
    with transaction.atomic():
        before = _already_stored(rows)
        fresh = [r for r in rows if r.id not in before]
        stored = _store(fresh)
        new_ids = {r.id for r in fresh}
        for answer in answers:
            answer.new = answer.id in new_ids
        _note_longest_stays(fresh, venues)
        record(
            actor,
            "create",
            object_type="venue_entry",
            object_id=str(rows[0].venue_id) if len({r.venue_id for r in rows}) == 1 else "",
            division_code=rows[0].division_code,
            fields=["entries"],
            note=f"{stored} stored, {len(rows) - stored} already stored",
            at=now,
        )
        from epigrid.venues.services.alerts import follow_up_entries

        follow_up_entries(actor=actor, rows=fresh, venues=venues, at=now)
    return IngestResult(stored=stored, duplicates=len(rows) - stored, entries=answers)


def _store(fresh: list[EntryRow]) -> int:
    """The rows no earlier upload stored, by plain COPY; should the same queue be arriving
    from a second connection at this moment (a device retrying before its first answer), the
    COPY meets the other's rows, rolls back to its savepoint, and the rows go again skipping
    whatever is there."""
    if not fresh:
        return 0
    try:
        with transaction.atomic():
            return insert_rows(Entry, fresh)
    except IntegrityError:
        return insert_new_rows(Entry, fresh)


def _already_stored(rows: list[EntryRow]) -> set:
    """Ids of the batch that an earlier upload stored (one indexed lookup by venue and time
    range, which every partition answers from its index, then the ids)."""
    first = min(r.entered_at for r in rows)
    last = max(r.entered_at for r in rows)
    return set(
        any_of(Entry.objects, "id", [r.id for r in rows])
        .filter(entered_at__gte=first, entered_at__lte=last)
        .values_list("id", flat=True)
    )


def _rows(items, checked, venues, people, actor: Actor, now: datetime):
    rows: list[EntryRow] = []
    answers: list[StoredEntry] = []
    user_id = actor.user.pk if actor.user is not None else None
    for item, (entry_id, reading), person in zip(items, checked, people, strict=True):
        venue = venues[_as_uuid(item.venue_id)]
        colour = (
            item.colour_seen
            if item.colour_seen in ("green", "yellow", "red")
            else (person.colour if person else "")
        )
        if item.token:
            colour = person.colour
        decision = gate.decide(
            gate.Observation(
                place="venue",
                temperature=reading,
                colour=colour,
                division_code=person.division_code if person else "",
                venue_type=venue.type_id,
                place_division=venue.division_code,
            ),
            local_date(item.entered_at),
        )
        leaves = item.exited_at or item.entered_at + timedelta(minutes=venue.type.dwell_minutes)
        row = EntryRow(
            id=entry_id,
            venue_id=venue.pk,
            person_id=person.id if person else None,
            entered_at=item.entered_at,
            leaves_at=leaves,
            exited_at=item.exited_at,
            method=item.method,
            temperature=reading,
            colour_seen=colour,
            admitted=decision.admit,
            actions=decision.as_record(),
            issuer=(person.issuer if person else ""),
            division_code=venue.division_code,
            recorded_by_id=user_id if item.method != EntryMethod.VENUE_CODE else None,
            device_id=item.device_id[:64],
            received_at=now,
        )
        rows.append(row)
        answers.append(
            StoredEntry(
                id=entry_id,
                venue_id=venue.pk,
                person_id=row.person_id,
                entered_at=item.entered_at,
                colour=colour,
                holder=identity.mask_name(person.name) if person and person.name else "",
                admitted=decision.admit,
                actions=decision.actions,
                steps=row.actions,
                new=True,
            )
        )
    return rows, answers


def _note_longest_stays(rows: list[EntryRow], venues: dict) -> None:
    longest: dict = defaultdict(int)
    for row in rows:
        minutes = int((row.leaves_at - row.entered_at).total_seconds() // 60) + 1
        longest[row.venue_id] = max(longest[row.venue_id], minutes)
    for venue_id, minutes in longest.items():
        if minutes > venues[venue_id].longest_stay_minutes:
            Venue.objects.filter(pk=venue_id, longest_stay_minutes__lt=minutes).update(
                longest_stay_minutes=minutes
            )


def record_exit(*, actor: Actor, entry_id, exited_at: datetime) -> Entry:
    """The exit of an entry, when the venue logs exits: the visit ends there."""
    with transaction.atomic():
        entry = Entry.objects.select_for_update().select_related("venue").filter(pk=entry_id).first()
        if entry is None:
            raise EntryError("entry_unknown", _("No such entry."), "entry_id")
        check_can_record(actor, entry.venue, field="entry_id")
        if exited_at < entry.entered_at:
            raise EntryError("exit_before_entry", _("The exit is before the entry."), "exited_at")
        Entry.objects.filter(pk=entry.pk, entered_at=entry.entered_at).update(
            exited_at=exited_at, leaves_at=exited_at
        )
        record(
            actor,
            "update",
            object_type="venue_entry",
            object_id=str(entry.pk),
            division_code=entry.division_code,
            fields=["exited_at"],
        )
        entry.exited_at = entry.leaves_at = exited_at
        return entry
