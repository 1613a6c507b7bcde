"""Everything a rule may look at for one person, as frozen plain data.

The engine never queries the database: the Django side assembles a `Facts` snapshot (see
`assemble` and the contributor registry at the bottom) and hands it to `engine.evaluate`. A
snapshot round-trips through `to_dict` / `from_dict` so it can be stored as JSON next to the
decision it produced; that is what makes a decision explainable and replayable later (R3.3).

Conventions shared by every class here:
- Datetimes are timezone-aware. Calendar dates (travel stops, risk-area listings) are dates
  in China Standard Time, the zone every source document counts days in.
- Places are written as a GB/T 2260 division code (2, 4, 6, 9 or 12 digits; 6-digit codes padded
  with zeros such as `420000` mean the province `42`), or as an ISO 3166-1 alpha-2 country code
  (`US`, `IT`) for places abroad. `division_prefix` turns either into the prefix used for
  "is this place inside that area" matches: a stop in `420102` is inside `420100` (Wuhan) and
  inside `42` (Hubei).
- Vocabularies are closed sets (the constants below); constructors reject anything else, so a
  typo in a producer fails at the producer instead of silently never matching a rule.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime

from epigrid.lib.chinatime import CHINA_TZ, local_date, start_of_day  # noqa: F401 (the engine's names)
from epigrid.lib.errors import DomainError


class FactsError(DomainError):
    """Facts a producer built wrong (a value outside its vocabulary, a naive datetime): the
    producer's mistake, found where it makes the facts; the message is for its developer."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__("facts_invalid", message, field)


TEST_KINDS = frozenset({"nucleic_acid", "serology_igm", "serology_igg", "rapid_antigen"})
TEST_RESULTS = frozenset({"negative", "positive", "pending"})
# Where a result comes from. NA182-2.3 asks every region to accept the others' results, so the
# engine treats all sources alike; the source is kept for the record and for packs that must
# tell them apart.
TEST_SOURCES = frozenset({"local", "other_region", "foreign_certificate"})
CASE_STATUSES = frozenset({"confirmed", "suspected", "asymptomatic", "re_positive", "discharged"})
CONTACT_KINDS = frozenset({"close", "secondary"})
QUARANTINE_KINDS = frozenset({"centralized", "home", "hospital"})
# medium / high are the published risk levels; key is the earlier "key epidemic area" list
# (KS10-3); local_cases and land_border are the two further lists JX57-2.3 names.
RISK_LEVELS = frozenset({"medium", "high", "key", "local_cases", "land_border"})
CODE_COLOURS = frozenset({"green", "yellow", "red"})
SYMPTOMS = frozenset(
    {"fever", "cough", "sore_throat", "dyspnoea", "fatigue", "diarrhoea", "loss_of_taste_or_smell"}
)
RESPIRATORY_SYMPTOMS = frozenset({"cough", "sore_throat", "dyspnoea"})
TRANSPORTS = frozenset({"", "flight", "train", "coach", "car", "ship", "other"})
PURPOSES = frozenset(
    {
        "",
        "return_home",
        "work",
        "study",
        "business_visit",
        "official_visit",
        "family_visit",
        "tourism",
        "transit",
        "other",
    }
)
# Groups a person belongs to that rules single out: must-test groups (JX57-3.10, NA182-2.5.1)
# and school members (KS10-18..20). Open for extension: add a name here and use it in packs.
GROUPS = frozenset(
    {
        "student",
        "school_staff",
        "employee",
        "medical_staff",
        "port_border_staff",
        "prison_staff",
        "care_home_staff",
        "public_service_staff",
        "new_inpatient",
        "inpatient_companion",
    }
)
# Body temperature from which a reading counts as fever (the usual 37.3 °C screening cut-off).
FEVER_THRESHOLD = 37.3

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DIVISION = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")


def is_place(code: str) -> bool:
    """A GB/T 2260 code of any level, or an ISO country code."""
    return bool(_DIVISION.match(code) or _COUNTRY.match(code))


@functools.lru_cache(maxsize=65536)
def division_prefix(code: str) -> str:
    """The shortest prefix that still names the same area: `420000` → `42`, `420100` → `4201`.

    GB/T 2260 pads higher levels with zeros, and town/community codes pad with `000`; stripping
    the padding lets "inside" be a plain string-prefix test at every level. Country codes and
    the empty string (nationwide) are returned unchanged.
    """
    if not code or not code.isdigit():
        return code
    if len(code) == 12 and code.endswith("000"):
        code = code[:9]
    if len(code) == 9 and code.endswith("000"):
        code = code[:6]
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def within(code: str, area: str) -> bool:
    """Whether place `code` lies inside `area` (both division codes, or both country codes)."""
    return division_prefix(code).startswith(division_prefix(area))


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise FactsError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _choice(name: str, value: str, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise FactsError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


def _place(name: str, value: str, allow_empty: bool = True) -> None:
    if value == "" and allow_empty:
        return
    if not isinstance(value, str) or not is_place(value):
        raise FactsError(f"{name} must be a GB/T 2260 division code or an ISO country code, got {value!r}")


class _Serialisable:
    """`to_dict` / `from_dict` driven by the dataclass fields and their type hints."""

    def to_dict(self) -> dict:
        return {name: _encode(getattr(self, name)) for name in _field_names(type(self))}

    @classmethod
    def from_dict(cls, data: Mapping) -> typing.Self:
        if not isinstance(data, Mapping):
            raise FactsError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
        decoders = _decoders(cls)
        unknown = set(data) - set(decoders)
        if unknown:
            raise FactsError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
        return cls(**{name: decoders[name](value) for name, value in data.items()})


@dataclass(frozen=True, slots=True)
class Identity(_Serialisable):
    """Who the person is, as far as rules care."""

    birth_date: date | None = None
    # ISO 3166-1 alpha-2 of the nationality.
    nationality: str = "CN"
    # Lives abroad (overseas Chinese or a foreign resident); arrivals of such people are usually
    # overseas arrivals, but the rules look at the arrival itself (`Arrival.from_abroad`).
    overseas_resident: bool = False
    # Groups from `GROUPS` (must-test groups, school members, ...).
    groups: frozenset[str] = frozenset()

    def __post_init__(self):
        if not _COUNTRY.match(self.nationality):
            raise FactsError(f"nationality must be an ISO country code, got {self.nationality!r}")
        object.__setattr__(self, "groups", frozenset(self.groups))
        for group in self.groups:
            _choice("group", group, GROUPS)

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


@dataclass(frozen=True, slots=True)
class Arrival(_Serialisable):
    """One declared or verified arrival in the jurisdiction (R2.1). The latest arrival at or before
    the evaluation time is "the arrival" the rules talk about."""

    arrived_at: datetime
    # Where the journey started: division code, or country code for arrivals from abroad.
    origin: str = ""
    transport: str = ""
    # Flight or train number, or the car's plate.
    transport_number: str = ""
    purpose: str = ""
    # For visits: how many days the person declared to stay (JS79-13's "at most 3 days").
    declared_stay_days: int | None = None
    # The host unit arranges point-to-point transport and reception (点对点对接服务, JS79-13).
    point_to_point_hosting: bool = False
    # When the arrival was declared; before `arrived_at` means declared in advance (XC-2.1).
    declared_at: datetime | None = None
    # The journey began abroad (JX57-2.1, XC-2.1).
    from_abroad: bool = False
    # When the person entered China, and at which first entry point (division code).
    entered_country_at: datetime | None = None
    entry_port: str = ""
    # Whether the 14 days of centralized isolation at the first entry point were served:
    # True served, False not (e.g. illegal entry over a land border, JX57-2.2), None unknown or
    # not yet (the first entry point is here).
    isolated_at_first_entry: bool | None = None
    # The health code the person held on arrival, from another issuer (JX57-2.3's "green code"):
    # its colour and the issuing division prefix (`42` for a code issued by Hubei).
    health_code_colour: str = ""
    health_code_issuer: str = ""
    # Where the person stays here (division code).
    destination: str = ""

    def __post_init__(self):
        _aware("arrived_at", self.arrived_at)
        _aware("declared_at", self.declared_at)
        _aware("entered_country_at", self.entered_country_at)
        _place("origin", self.origin)
        _place("entry_port", self.entry_port)
        _place("destination", self.destination)
        _place("health_code_issuer", self.health_code_issuer)
        _choice("transport", self.transport, TRANSPORTS)
        _choice("purpose", self.purpose, PURPOSES)
        if self.health_code_colour:
            _choice("health_code_colour", self.health_code_colour, CODE_COLOURS)
        if self.declared_stay_days is not None and self.declared_stay_days < 0:
            raise FactsError("declared_stay_days must not be negative")


@dataclass(frozen=True, slots=True)
class TravelStop(_Serialisable):
    """A place stayed in (旅居史), from the first to the last calendar day there, both included.
    `end` None means the person is still there."""

    area: str
    start: date
    end: date | None = None

    def __post_init__(self):
        _place("area", self.area, allow_empty=False)
        if self.end is not None and self.end < self.start:
            raise FactsError(f"travel stop in {self.area} ends before it starts")


@dataclass(frozen=True, slots=True)
class RiskArea(_Serialisable):
    """One entry of a published list: an area at a risk level (or on the local-cases or
    land-border list) from `start` to `end`, both included; `end` None while still listed,
    `start` None for lists without dates (land-border areas)."""

    area: str
    level: str
    start: date | None = None
    end: date | None = None
    # The notice that listed the area, for the record and explanations.
    source: str = ""

    def __post_init__(self):
        _place("area", self.area, allow_empty=False)
        _choice("level", self.level, RISK_LEVELS)
        if self.start is not None and self.end is not None and self.end < self.start:
            raise FactsError(f"risk listing of {self.area} ends before it starts")


@dataclass(frozen=True)
class RiskContext(_Serialisable):
    """The area lists in force. One instance is shared by every person in a bulk reassessment, so
    its lookup index is built once and cached on the instance."""

    areas: tuple[RiskArea, ...] = ()

    @functools.cached_property
    def index(self) -> dict[str, dict[str, tuple[tuple[int, int], ...]]]:
        """level → area prefix → ((first day, last day) as ordinals, ...)."""
        index: dict[str, dict[str, list[tuple[int, int]]]] = {}
        for listing in self.areas:
            first = listing.start.toordinal() if listing.start else date.min.toordinal()
            last = listing.end.toordinal() if listing.end else date.max.toordinal()
            index.setdefault(listing.level, {}).setdefault(division_prefix(listing.area), []).append(
                (first, last)
            )
        return {level: {k: tuple(v) for k, v in by_area.items()} for level, by_area in index.items()}

    def relevant_to(self, stops: tuple[TravelStop, ...]) -> RiskContext:
        """Only the listings that contain one of `stops`: what a stored snapshot needs to replay."""
        prefixes = [division_prefix(s.area) for s in stops]
        keep = tuple(a for a in self.areas if any(p.startswith(division_prefix(a.area)) for p in prefixes))
        return RiskContext(keep)


@dataclass(frozen=True, slots=True)
class TestResult(_Serialisable):
    """A test and its result. `reported_at` is when the result became known; a result reported
    after the evaluation time is treated as still pending, so what-if replays see what staff saw."""

    __test__ = False  # keeps pytest from collecting this class as a test suite

    kind: str
    result: str
    sampled_at: datetime
    reported_at: datetime | None = None
    source: str = "local"
    # Issuing lab, region (division prefix) or certificate issuer, for the record.
    issuer: str = ""

    def __post_init__(self):
        _choice("test kind", self.kind, TEST_KINDS)
        _choice("test result", self.result, TEST_RESULTS)
        _choice("test source", self.source, TEST_SOURCES)
        _aware("sampled_at", self.sampled_at)
        _aware("reported_at", self.reported_at)


@dataclass(frozen=True, slots=True)
class CaseStatus(_Serialisable):
    """The person's case classification (R8.1) since `since`; for `discharged`, the discharge time."""

    status: str
    since: datetime
    discharged_at: datetime | None = None

    def __post_init__(self):
        _choice("case status", self.status, CASE_STATUSES)
        _aware("since", self.since)
        _aware("discharged_at", self.discharged_at)
        if self.status == "discharged" and self.discharged_at is None:
            object.__setattr__(self, "discharged_at", self.since)


@dataclass(frozen=True, slots=True)
class ContactStatus(_Serialisable):
    """The person was identified as a contact of a case (R8.3)."""

    kind: str
    last_exposure: datetime
    identified_at: datetime | None = None
    # False once the observation was lifted by the CDC.
    under_observation: bool = True

    def __post_init__(self):
        _choice("contact kind", self.kind, CONTACT_KINDS)
        _aware("last_exposure", self.last_exposure)
        _aware("identified_at", self.identified_at)


@dataclass(frozen=True, slots=True)
class HealthCheck(_Serialisable):
    """The latest temperature and symptom record (R7.2)."""

    checked_at: datetime
    temperature: float | None = None
    symptoms: frozenset[str] = frozenset()

    def __post_init__(self):
        _aware("checked_at", self.checked_at)
        object.__setattr__(self, "symptoms", frozenset(self.symptoms))
        for symptom in self.symptoms:
            _choice("symptom", symptom, SYMPTOMS)

    @property
    def fever(self) -> bool:
        return "fever" in self.symptoms or (
            self.temperature is not None and self.temperature >= FEVER_THRESHOLD
        )


@dataclass(frozen=True, slots=True)
class Quarantine(_Serialisable):
    """A quarantine or isolation period, served here or elsewhere (`issuer`, NA182-2.3). `end` None
    while it goes on."""

    kind: str
    start: datetime
    end: datetime | None = None
    issuer: str = ""

    def __post_init__(self):
        _choice("quarantine kind", self.kind, QUARANTINE_KINDS)
        _aware("start", self.start)
        _aware("end", self.end)
        _place("issuer", self.issuer)


Scalar = str | int | float | bool | None


@dataclass(frozen=True)
class Facts(_Serialisable):
    """Everything known about one person that rules may look at."""

    person_id: str = ""
    # The division managing the person (residence or destination); selects the packs in force.
    division_code: str = ""
    identity: Identity = Identity()
    # Arrivals in any order; the engine picks the latest at or before the evaluation time.
    arrivals: tuple[Arrival, ...] = ()
    travel: tuple[TravelStop, ...] = ()
    risk: RiskContext = RiskContext()
    tests: tuple[TestResult, ...] = ()
    case: CaseStatus | None = None
    contact: ContactStatus | None = None
    health_check: HealthCheck | None = None
    # Quarantine periods, current and past; the current one is the one not ended at `at`.
    quarantines: tuple[Quarantine, ...] = ()
    # Further scalar facts a new producer contributes before a dataclass field exists for them;
    # rules reach them as `extra.<name>` in field comparisons.
    extra: Mapping[str, Scalar] = field(default_factory=dict)

    def __post_init__(self):
        _place("division_code", self.division_code)
        for name in ("arrivals", "travel", "tests", "quarantines"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for key, value in self.extra.items():
            if not isinstance(key, str) or not isinstance(value, Scalar):
                raise FactsError(f"extra[{key!r}] must be a scalar, got {value!r}")
        object.__setattr__(self, "extra", types.MappingProxyType(dict(self.extra)))

    def latest_arrival(self, at: datetime) -> Arrival | None:
        latest = None
        for arrival in self.arrivals:
            if arrival.arrived_at <= at and (latest is None or arrival.arrived_at > latest.arrived_at):
                latest = arrival
        return latest

    def current_quarantine(self, at: datetime) -> Quarantine | None:
        current = None
        for q in self.quarantines:
            if (
                q.start <= at
                and (q.end is None or q.end > at)
                and (current is None or q.start > current.start)
            ):
                current = q
        return current

    def trimmed(self) -> Facts:
        """The same facts with only the risk listings that touch this person's travel: what to
        store as the snapshot, since the full lists are shared by everyone."""
        return Facts(
            **{
                **{f.name: getattr(self, f.name) for f in fields(self)},
                "risk": self.risk.relevant_to(self.travel),
            }
        )


# -- serialisation ---------------------------------------------------------------------------


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


# plain values come back as they are, before any other test: a decision's snapshot holds
# hundreds of them, and a list commit stores tens of thousands of snapshots
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _encode(value):
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value):
        return value.to_dict()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode_datetime(value):
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise FactsError(f"expected an ISO datetime, got {value!r}")
    return datetime.fromisoformat(value)


def _decode_date(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise FactsError(f"expected an ISO date, got {value!r}")
    return date.fromisoformat(value)


def _decoder_for(hint) -> Callable:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            inner = _decoder_for(non_none[0])
            return lambda v: None if v is None else inner(v)
        return lambda v: v  # a union of scalars (extra values): taken as given
    if origin is tuple:
        inner = _decoder_for(args[0])
        return lambda v: tuple(inner(x) for x in v)
    if origin is frozenset:
        return lambda v: frozenset(v)
    if origin in (Mapping, dict) or hint is Mapping:
        return lambda v: dict(v)
    if hint is datetime:
        return _decode_datetime
    if hint is date:
        return _decode_date
    if isinstance(hint, type) and is_dataclass(hint):
        return hint.from_dict
    return lambda v: v


@functools.cache
def _decoders(cls) -> dict[str, Callable]:
    hints = typing.get_type_hints(cls)
    return {f.name: _decoder_for(hints[f.name]) for f in fields(cls)}


# -- merging what the producers contribute ---------------------------------------------------

# Fields several producers may each add to (a declaration's arrival and a pushed list's): the
# contributions are concatenated. Any other field has one owner, so two producers can never
# silently disagree about, say, the case status.
TUPLE_FIELDS = frozenset({"arrivals", "travel", "tests", "quarantines"})


class FactsConflict(FactsError):
    """Two producers set the same one-owner field of one person's facts: a programming error of
    the producers (they must agree who owns what), never the person's."""

    def __init__(self, name: str, first: str, second: str):
        super().__init__(f"facts field {name!r} set by both {first!r} and {second!r}", name)
        self.code = "facts_conflict"


# fields several producers may give, the latest by the named time winning
LATEST_FIELDS = {"health_check": "checked_at"}


def merge(parts: Iterable[tuple[str, Mapping[str, object]]]) -> dict[str, object]:
    """One person's Facts fields from what each producer contributes, `(producer, fields)` in
    order: tuple fields (`TUPLE_FIELDS`) concatenated in that order, `extra` mappings merged
    (the later producer's key wins), a `LATEST_FIELDS` field from whoever measured last, any
    other field from one producer only (`FactsConflict`).
    Only the fields someone contributed appear (`extra` too), so the result can be checked for
    "nothing at all" and given to `Facts(**base, **merged)`."""
    merged: dict[str, object] = {}
    owners: dict[str, str] = {}
    for producer, contributed in parts:
        for name, value in contributed.items():
            if name in TUPLE_FIELDS:
                merged[name] = (*merged.get(name, ()), *value)
            elif name == "extra":
                merged["extra"] = {**merged.get("extra", {}), **value}
            elif name in LATEST_FIELDS and name in merged:
                # several producers measure a person (a declaration, a venue door, a checkpoint):
                # the latest reading is the one that holds
                when = LATEST_FIELDS[name]
                if value is not None and (
                    merged[name] is None or getattr(value, when) > getattr(merged[name], when)
                ):
                    merged[name] = value
                    owners[name] = producer
            elif name in merged:
                raise FactsConflict(name, owners[name], producer)
            else:
                merged[name] = value
                owners[name] = producer
    return merged


# -- assembling facts from the producers ------------------------------------------------------

# A producer registers a contributor: a function (subject, at) -> mapping of Facts field names
# to values, and `assemble` merges them all. The reassessment loop does the same per batch
# through `rules.registry.facts_sources`; both merge with `merge`.
Contributor = Callable[[object, datetime], Mapping[str, object]]
_CONTRIBUTORS: dict[str, Contributor] = {}


def register_contributor(name: str, contributor: Contributor) -> None:
    """Register (or replace, for reloads and tests) the contributor called `name`."""
    _CONTRIBUTORS[name] = contributor


def unregister_contributor(name: str) -> None:
    _CONTRIBUTORS.pop(name, None)


def assemble(subject: object, at: datetime, base: Mapping[str, object] | None = None) -> Facts:
    """Build the facts for `subject` at `at` from `base` and every registered contributor, merged
    by `merge` (`base` counts as the first producer)."""
    parts = [("base", base or {})]
    parts += [(name, _CONTRIBUTORS[name](subject, at)) for name in sorted(_CONTRIBUTORS)]
    return Facts(**merge(parts))
