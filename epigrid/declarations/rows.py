"""The rows `lib.bulk.insert_rows` writes for this app, one NamedTuple per model, named by the
model's fields (beside `models.py`, which has no room for them)."""

import uuid
from datetime import datetime
from typing import NamedTuple

from epigrid.declarations.models import RowState, VerificationKind, VerificationStatus


class PushedRowValues(NamedTuple):
    """A `PushedRow` as a pushed list's check stores it (`services.pushed_upload`). A row with
    errors keeps what it said (masked) but neither indexes, nor a person, nor a route."""

    id: uuid.UUID
    pushed_list: uuid.UUID  # the list's id
    row_number: int
    state: str = RowState.VALID
    errors: str = ""  # JSON text of [{column, code, message}] for an invalid row
    name: str = ""
    doc_type: str = ""
    id_number_enc: bytes | None = None
    id_number_bidx: str = ""
    id_number_masked: str = ""
    phone_enc: bytes | None = None
    phone_bidx: str = ""
    phone_masked: str = ""
    origin: str = ""
    arrived_at: datetime | None = None
    transport: str = ""
    transport_number: str = ""
    address: str = ""
    division_code: str = ""
    unit_id: uuid.UUID | None = None
    routed_by: str = ""
    person: uuid.UUID | str | None = None  # the person's id, as the database gave it
    match: str = ""
    excluded_from_facts: bool = False


class VerificationTaskRow(NamedTuple):
    """An open `VerificationTask` for a committed pushed row (`services.pushed_commit`)."""

    id: uuid.UUID
    pushed_row: uuid.UUID | str  # the row's id
    division_code: str
    assignee: str
    due_at: datetime
    created_at: datetime
    person: uuid.UUID | str | None = None  # the person's id
    unit_id: uuid.UUID | None = None
    kind: str = VerificationKind.PUSHED_ROW
    status: str = VerificationStatus.OPEN
    outcome: str = ""
    notes: str = ""
