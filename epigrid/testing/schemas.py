"""The shapes of /api/v1/testing: what each operation takes and returns (`testing.api`)."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from epigrid.apierrors import ErrorItem
from epigrid.testing import certificates
from epigrid.testing.models import (
    WILLING,
    Analyte,
    GroupName,
    Outcome,
    PointKind,
    TestKind,
)
from epigrid.testing.parsing import BARCODE

BARCODE_PATTERN = BARCODE.pattern


class PointOut(Schema):
    id: UUID
    kind: str
    name: str
    unit_name: str = ""
    address: str
    division_code: str
    latitude: float | None
    longitude: float | None
    contact_name: str
    phone: str
    opening_hours: str
    active_from: date
    active_to: date | None
    waiting_place: str
    distance_km: float | None = None


class PointIn(Schema):
    kind: Literal[tuple(PointKind.values)]  # type: ignore[valid-type]
    name: str = Field(min_length=1, max_length=128)
    address: str = Field(min_length=1, max_length=255)
    division_code: str = Field(pattern=r"^\d{6,15}$")
    active_from: date
    active_to: date | None = None
    unit_id: UUID | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    contact_name: str = Field("", max_length=64)
    phone: str = Field("", max_length=24)
    opening_hours: str = Field("", max_length=128)
    waiting_place: str = Field("", max_length=255)
    lab_id: UUID | None = None


class OrderOut(Schema):
    id: UUID
    person_id: UUID
    test: str
    source: str
    group: str
    reason_zh: str
    reason_en: str
    requirements: list[str]
    free: bool
    ordered_at: datetime
    due_at: datetime
    status: str
    result: str
    sampled_at: datetime | None
    received_at: datetime | None
    resulted_at: datetime | None
    specimen_barcode: str | None = None
    sampling_point_id: UUID | None
    lab_id: UUID | None
    pool_id: UUID | None


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class WalkInIn(Schema):
    person_id: UUID
    test: Literal[tuple(TestKind.values)] = TestKind.NUCLEIC_ACID  # type: ignore[valid-type]
    group: Literal[tuple([WILLING, *GroupName.values])] = WILLING  # type: ignore[valid-type]


class PoolIn(Schema):
    point_id: UUID
    barcode: str = Field(pattern=BARCODE_PATTERN)
    size: Literal[5, 10, 20] = 10


class PoolOut(Schema):
    id: UUID
    barcode: str
    size: int
    status: str
    result: str
    sampling_point_id: UUID
    members: int


class SpecimenIn(Schema):
    person_id: UUID
    point_id: UUID
    barcode: str = Field(pattern=BARCODE_PATTERN)
    test: Literal[tuple(TestKind.values)] = TestKind.NUCLEIC_ACID  # type: ignore[valid-type]
    pool_barcode: str | None = Field(None, pattern=BARCODE_PATTERN)
    group: Literal[tuple([WILLING, *GroupName.values])] | None = None  # type: ignore[valid-type]


class SpecimenOut(Schema):
    id: UUID
    barcode: str
    person_id: UUID
    sample_type: str
    status: str
    result: str
    pool_barcode: str | None
    taken_at: datetime
    orders: list[UUID]
    waiting_place: str


class ReceiveIn(Schema):
    barcodes: list[str] = Field(min_length=1, max_length=5000)


class ReceiveOut(Schema):
    received: list[str]
    unknown: list[str]


class ResultIn(Schema):
    barcode: str = Field(pattern=BARCODE_PATTERN)
    test: Literal[tuple(Analyte.values[:3])] = Analyte.NUCLEIC_ACID  # type: ignore[valid-type]
    result: Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
    tested_at: datetime
    received_at: datetime | None = None
    reported_at: datetime | None = None
    ct_values: dict[Literal["orf1ab", "n", "e"], float] = Field(default_factory=dict)


class ResultsIn(Schema):
    # 5,000 rows stay well under the request size limit (2.5 MB); send more in several calls
    rows: list[ResultIn] = Field(min_length=1, max_length=5000)
    dry_run: bool = False


class ResultsOut(Schema):
    accepted: bool
    errors: list[ErrorItem]
    counts: dict[str, int]


class ResultOut(Schema):
    id: UUID
    person_id: UUID
    analyte: str
    result: str
    sampled_at: datetime
    tested_at: datetime | None
    reported_at: datetime
    ct_values: dict
    source: str
    issuer: str
    external_ref: str
    pooled: bool


class ResultPage(Schema):
    items: list[ResultOut]
    next_cursor: str | None


class ExternalIn(Schema):
    person_id: UUID
    analyte: Literal[tuple(Analyte.values)]  # type: ignore[valid-type]
    result: Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
    sampled_at: datetime
    reported_at: datetime | None = None
    issuer: str = Field(min_length=1, max_length=128, description="region (division code), lab or issuer")
    reference: str = Field("", max_length=128)


class DccIn(Schema):
    qr: str = Field(min_length=1, max_length=certificates.MAX_QR)
    person_id: UUID | None = None


class DccRefused(Schema):
    code: str
    message: str
    field: str | None
    candidates: list[UUID] = []


class OverdueRow(Schema):
    id: UUID
    name: str
    overdue: int


class OverdueOut(Schema):
    per_lab: list[OverdueRow]
    per_point: list[OverdueRow]
    unsampled: int


class SequencingIn(Schema):
    specimen_barcode: str = Field(pattern=BARCODE_PATTERN)
    lab_id: UUID
    notes: str = Field("", max_length=2000)


class SequencingPatch(Schema):
    status: Literal["sent", "received", "resulted", "failed"]
    lineage: str = Field("", max_length=64)
    clade: str = Field("", max_length=32)
    notes: str = Field("", max_length=2000)


class SequencingOut(Schema):
    id: UUID
    person_id: UUID
    specimen_id: UUID
    lab_id: UUID
    status: str
    requested_at: datetime
    sent_at: datetime | None
    received_at: datetime | None
    resulted_at: datetime | None
    lineage: str
    clade: str
