"""Row types of the testing models written in bulk (`lib.bulk.insert_rows`): each field is the
model field of that name, a relation given by its id. Build them by name; the defaults are the
model's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from epigrid.testing.choices import OrderStatus, PoolStatus, ResultSource, SpecimenStatus


class TestOrderRow(NamedTuple):
    """A TestOrder: opened by the rules (`measure`), a screening, or a positive pool's retest
    (`pool`)."""

    __test__ = False

    id: uuid.UUID
    person: uuid.UUID
    division_code: str
    test: str
    source: str
    ordered_at: datetime
    due_at: datetime
    group: str = ""
    reason_zh: str = ""
    reason_en: str = ""
    requirements: list | tuple = ()  # requirement IDs, stored as a JSON list
    free: bool = False
    status: str = OrderStatus.OPEN
    measure: uuid.UUID | None = None
    pool: uuid.UUID | None = None
    specimen: uuid.UUID | None = None
    sampling_point: uuid.UUID | None = None
    lab: uuid.UUID | None = None
    sampled_at: datetime | None = None
    received_at: datetime | None = None
    result: str = ""


class TestResultRow(NamedTuple):
    """A TestResult from our lab: on the person's own tube (`specimen`), or through a negative
    pool (`specimen` and `pool`)."""

    __test__ = False

    id: uuid.UUID
    person: uuid.UUID
    division_code: str
    analyte: str
    result: str
    sampled_at: datetime
    reported_at: datetime
    recorded_at: datetime
    tested_at: datetime | None = None
    ct_values: dict = {}  # shared by every row that leaves it: never mutated
    source: str = ResultSource.LOCAL
    issuer: str = ""
    lab: uuid.UUID | None = None
    specimen: uuid.UUID | None = None
    pool: uuid.UUID | None = None
    external_ref: str = ""
    details: dict = {}
    recorded_by: int | None = None  # the user's id


class SpecimenRow(NamedTuple):
    """A Specimen (mass screening set up in bulk: `bench/bench_results.py`)."""

    id: uuid.UUID
    barcode: str
    person: uuid.UUID
    division_code: str
    sample_type: str
    sampling_point: uuid.UUID
    taken_at: datetime
    pool: uuid.UUID | None = None
    lab: uuid.UUID | None = None
    received_at: datetime | None = None
    status: str = SpecimenStatus.TAKEN
    result: str = ""


class PoolRow(NamedTuple):
    """A Pool (mass screening set up in bulk: `bench/bench_results.py`)."""

    id: uuid.UUID
    barcode: str
    size: int
    sampling_point: uuid.UUID
    division_code: str
    created_at: datetime
    lab: uuid.UUID | None = None
    status: str = PoolStatus.OPEN
    sealed_at: datetime | None = None
    received_at: datetime | None = None
    result: str = ""
    ct_values: dict = {}
