"""Phase one of results: rows bound to the specimens and pools the lab may answer, every
problem named with its row and column. Changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.utils.translation import gettext as _

from epigrid.accounts.scoping import visible_to
from epigrid.lib.sql import any_of
from epigrid.testing.models import (
    Analyte,
    Outcome,
    Pool,
    SampleType,
    Specimen,
    TestResult,
)
from epigrid.testing.parsing import ResultRow, RowError
from epigrid.testing.services.common import chunks
from epigrid.units.models import Unit


@dataclass
class Bound:
    """A checked row bound to what it answers."""

    row: ResultRow
    target: str  # "specimen" or "pool"
    target_id: object
    unchanged: bool = False


@dataclass
class Checked:
    bound: list[Bound] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def new(self) -> list[Bound]:
        return [b for b in self.bound if not b.unchanged]


def check_rows(user, lab: Unit, rows: Sequence[ResultRow]) -> Checked:
    """Bind rows to specimens and pools the lab may answer; name every problem with its row.
    Changes nothing. A barcode outside the user's scope reads as unknown (nothing leaks)."""
    out = Checked()
    targets = _Targets.load(user, {r.barcode for r in rows})
    for r in rows:
        spec = targets.specimens.get(r.barcode)
        pool = targets.pools.get(r.barcode)
        if spec is not None:
            checked = _check_specimen_row(r, spec, lab, targets.existing.get((spec.id, r.analyte)))
        elif pool is not None:
            checked = _check_pool_row(r, pool, lab)
        else:
            checked = RowError(
                r.row, "barcode", "barcode_unknown", _("No specimen or pool has this barcode.")
            )
        (out.errors if isinstance(checked, RowError) else out.bound).append(checked)
    out.errors.sort(key=lambda e: (e.row, e.column))
    return out


class _Tube(NamedTuple):
    barcode: str
    id: object
    lab_id: object
    sample_type: str
    taken_at: datetime


class _PoolTube(NamedTuple):
    barcode: str
    id: object
    lab_id: object
    result: str
    created_at: datetime


@dataclass
class _Targets:
    """The specimens and pools of a file's barcodes in the user's scope, and the results their
    specimens already have."""

    specimens: dict[str, _Tube]
    pools: dict[str, _PoolTube]
    existing: dict[tuple, str]  # (specimen id, analyte) -> result

    @classmethod
    def load(cls, user, barcodes: set[str]) -> _Targets:
        specimens, pools, existing = {}, {}, {}
        for chunk in chunks(list(barcodes), 10_000):
            for row in any_of(visible_to(user, Specimen.objects.all()), "barcode", chunk).values_list(
                *_Tube._fields
            ):
                specimens[row[0]] = _Tube(*row)
            for row in any_of(visible_to(user, Pool.objects.all()), "barcode", chunk).values_list(
                *_PoolTube._fields
            ):
                pools[row[0]] = _PoolTube(*row)
        for chunk in chunks([s.id for s in specimens.values()], 10_000):
            for sid, analyte, result in any_of(TestResult.objects.all(), "specimen_id", chunk).values_list(
                "specimen_id", "analyte", "result"
            ):
                existing[(sid, analyte)] = result
        return cls(specimens, pools, existing)


def _check_specimen_row(r: ResultRow, spec: _Tube, lab: Unit, before: str | None) -> Bound | RowError:
    if spec.lab_id is not None and spec.lab_id != lab.pk:
        return RowError(r.row, "barcode", "other_lab", _("This tube was sent to another lab."))
    wanted = SampleType.SWAB if r.analyte == Analyte.NUCLEIC_ACID else SampleType.BLOOD
    if spec.sample_type != wanted:
        return RowError(r.row, "test", "test_sample", _("This test cannot be done on this kind of specimen."))
    if r.tested_at < spec.taken_at:
        return RowError(
            r.row, "tested_at", "time_before_sampling", _("The test time is before the specimen was taken.")
        )
    if before is not None and before != r.result:
        return RowError(
            r.row,
            "result",
            "result_conflict",
            _("This tube already has the result %(result)s; a correction goes through the CDC.")
            % {"result": Outcome(before).label},
        )
    return Bound(r, "specimen", spec.id, unchanged=before is not None)


def _check_pool_row(r: ResultRow, pool: _PoolTube, lab: Unit) -> Bound | RowError:
    if pool.lab_id is not None and pool.lab_id != lab.pk:
        return RowError(r.row, "barcode", "other_lab", _("This pool was sent to another lab."))
    if r.analyte != Analyte.NUCLEIC_ACID:
        return RowError(r.row, "test", "test_pool", _("Pools are tested for nucleic acid only."))
    if r.tested_at < pool.created_at:
        return RowError(
            r.row, "tested_at", "time_before_sampling", _("The test time is before the pool was made.")
        )
    if pool.result and pool.result != r.result:
        return RowError(
            r.row,
            "result",
            "result_conflict",
            _("This pool already has the result %(result)s; a correction goes through the CDC.")
            % {"result": Outcome(pool.result).label},
        )
    return Bound(r, "pool", pool.id, unchanged=bool(pool.result))
