"""Entry batches from scanners and door pages (R5.1; up to 5,000 entries a request).

A device makes each entry's id when it records it and keeps its queue until the upload is
answered: sending the same queue again stores nothing twice (`duplicates` counts those), so
a batch cut off half way is simply sent again. The answer gives each entry's colour, the
holder's masked name and what the entry rules ask, never an ID number.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Router, Schema, Status
from pydantic import Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.venues import gate
from epigrid.venues.models import EntryMethod
from epigrid.venues.services import EntryInput, ingest_entries
from epigrid.venues.services.entries import MAX_BATCH

router = Router(tags=["venues"])


class EntryIn(Schema):
    id: UUID = Field(description="made on the device when the entry was recorded; a re-sent entry keeps it")
    venue_id: UUID
    method: Literal["staff_scan", "document"] = Field(
        description="staff_scan: a health code; document: an ID number typed or read from the card"
    )
    entered_at: datetime = Field(description="with its zone, e.g. 2026-12-02T09:30:00+08:00")
    token: str = Field("", max_length=400, description="the health code scanned (`HCT1:…`), verified here")
    code_id: str = Field(
        "", max_length=36, description="or the code id the device read from a code it verified offline"
    )
    document_number: str = Field(
        "", max_length=32, description="or the document number (people without a phone)"
    )
    temperature: float | None = Field(None, description="°C, one decimal")
    colour_seen: Literal["green", "yellow", "red", ""] = ""
    exited_at: datetime | None = None
    device_id: str = Field("", max_length=64)


class EntryBatchIn(Schema):
    entries: list[EntryIn] = Field(max_length=MAX_BATCH)


class EntryActionOut(Schema):
    code: str
    zh_hans: str = Field(alias="zh-hans")
    en: str


class EntryOut(Schema):
    id: UUID
    venue_id: UUID
    entered_at: datetime
    colour: str
    holder: str = Field(description="the holder's name, masked")
    admitted: bool
    actions: list[EntryActionOut]
    new: bool = Field(description="false when an earlier upload stored this entry")


class EntryBatchOut(Schema):
    stored: int
    duplicates: int
    entries: list[EntryOut]


def _action(code: str) -> dict:
    zh, en = gate.ACTIONS[code]
    return {"code": code, "zh-hans": zh, "en": en}


@router.post("/entries", response={201: EntryBatchOut}, summary="Upload a batch of entries")
@requires()
def upload_entries(request, payload: EntryBatchIn):
    items = [
        EntryInput(
            id=e.id,
            venue_id=e.venue_id,
            method=e.method if e.method in EntryMethod.values else "",
            entered_at=e.entered_at,
            token=e.token,
            code_id=e.code_id,
            document_number=e.document_number,
            temperature=e.temperature,
            colour_seen=e.colour_seen,
            exited_at=e.exited_at,
            device_id=e.device_id,
        )
        for e in payload.entries
    ]
    result = ingest_entries(actor=Actor.from_api(request), items=items)
    return Status(
        201,
        {
            "stored": result.stored,
            "duplicates": result.duplicates,
            "entries": [
                {
                    "id": a.id,
                    "venue_id": a.venue_id,
                    "entered_at": a.entered_at,
                    "colour": a.colour,
                    "holder": a.holder,
                    "admitted": a.admitted,
                    "actions": [_action(c) for c in a.actions],
                    "new": a.new,
                }
                for a in result.entries
            ],
        },
    )
