"""Whom a sweep looks at (`Population`: everyone, a division, a slice of the id space, or a set
of candidates) and how it reads them: in batches, keyset over the person id, one query that
also brings each person's stored decision."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import signals
from django.db.models.base import ModelState
from django.utils.translation import gettext as _

from epigrid.accounts.scoping import prefix_q
from epigrid.lib.errors import DomainError
from epigrid.lib.sql import any_of
from epigrid.people.models import Person, Status
from epigrid.rules.models import SweepRow
from epigrid.rules.services.evaluation import StoredState

# what Person.from_db is given: the model's field order
_PERSON_FIELDS = ["id", "birth_date", "nationality", "division_code"]


def persons_of(rows: list[SweepRow], using: str) -> tuple[list[Person], dict]:
    """The persons of a batch as read from `using`, with only the fields the rules read loaded
    (the rest deferred), and their stored states by id."""
    # someone listening for Person instances being made gets them made the ordinary way
    plain = signals.pre_init.has_listeners(Person) or signals.post_init.has_listeners(Person)
    persons, stored = [], {}
    for row in rows:
        values = [row.id, row.birth_date, row.nationality, row.division_code]
        persons.append(
            Person.from_db(using, _PERSON_FIELDS, values) if plain else _light_person(values, using)
        )
        stored[row.id] = (
            None
            if row.rule_state__fingerprint is None
            else StoredState(
                row.rule_state__fingerprint,
                row.rule_state__colour,
                row.rule_state__next_review_at,
                row.rule_state__division_code,
            )
        )
    return persons, stored


def _light_person(values: list, using: str) -> Person:
    """What `Person.from_db(using, _PERSON_FIELDS, values)` makes, without running
    `Model.__init__` over every field: a sweep makes a million persons, and `from_db` costs ten
    times this (docs/reassess.md, "The one fast path"). It relies on what `from_db` does — the
    loaded fields in `__dict__` under their attnames, a deferred field being one missing from
    it, `_state` with `adding` False and `db` the alias read from — which
    tests/reassess/test_one_person.py pins against `from_db` itself."""
    person = object.__new__(Person)
    person.__dict__.update(zip(_PERSON_FIELDS, values, strict=True))
    state = ModelState()
    state.adding = False
    state.db = using
    person._state = state
    return person


def shard_range(index: int, count: int) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The slice of the person-id space that shard `index` of `count` covers: [low, high)."""
    if not 0 <= index < count:
        raise DomainError("shard_out_of_range", _("The shard index is out of range."))
    low = None if index == 0 else uuid.UUID(int=(index << 128) // count)
    high = None if index == count - 1 else uuid.UUID(int=((index + 1) << 128) // count)
    return low, high


def _rows(qs, limit: int | None = None) -> list[SweepRow]:
    found = qs.order_by("pk").values_list(*SweepRow._fields)
    return [SweepRow._make(row) for row in (found if limit is None else found[:limit])]


@dataclass
class Population:
    """Who a sweep looks at: everyone (optionally within a division prefix and a slice of the id
    space), or only `candidates` (ids) within the same limits."""

    division: str = ""
    candidates: Iterable | None = None
    id_low: uuid.UUID | None = None
    id_high: uuid.UUID | None = None
    _ids: list | None = field(default=None, init=False, repr=False, compare=False)

    def queryset(self):
        qs = Person.objects.filter(status=Status.ACTIVE)
        if self.division:
            qs = qs.filter(prefix_q("division_code", self.division))
        if self.id_low is not None:
            qs = qs.filter(pk__gte=self.id_low)
        if self.id_high is not None:
            qs = qs.filter(pk__lt=self.id_high)
        return qs

    def candidate_ids(self) -> list[uuid.UUID]:
        # read twice per sweep (its size, then its batches): sorted once
        if self._ids is None:
            ids = sorted({c if isinstance(c, uuid.UUID) else uuid.UUID(str(c)) for c in self.candidates})
            if self.id_low is not None:
                ids = [i for i in ids if i >= self.id_low]
            if self.id_high is not None:
                ids = [i for i in ids if i < self.id_high]
            self._ids = ids
        return self._ids

    def count(self) -> int:
        if self.candidates is not None:
            return len(self.candidate_ids())
        return self.queryset().count()

    def batches(self, size: int) -> Iterable[list[SweepRow]]:
        qs = self.queryset()
        if self.candidates is not None:
            ids = self.candidate_ids()
            for start in range(0, len(ids), size):
                yield _rows(any_of(qs, "id", ids[start : start + size]))
            return
        last = None
        while True:
            page = qs if last is None else qs.filter(pk__gt=last)
            rows = _rows(page, size)
            if not rows:
                return
            yield rows
            last = rows[-1].id
            if len(rows) < size:
                return
