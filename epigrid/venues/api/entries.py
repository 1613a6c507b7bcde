"""Entry batches from scanners and door pages (R5.1; up to 5,000 entries a request).

A device makes each entry's id when it records it and keeps its queue until the upload is
answered: sending the same queue again stores nothing twice (`duplicates` counts those), so
a batch cut off half way is simply sent again. The answer gives each entry's colour, the
holder's masked name and what the entry rules ask, never an ID number.
"""

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

import orjson
from django.http import HttpResponse
from ninja import Router
from pydantic import BaseModel, ConfigDict, Field

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import Actor
from epigrid.venues import gate
from epigrid.venues.services import ingest_entries
from epigrid.venues.services.entries import MAX_BATCH

router = Router(tags=["venues"])


class EntryIn(BaseModel):
    # what the public scan page names a person by; never sent by a device
    person_id: ClassVar[None] = None

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


class EntryBatchIn(BaseModel):
    entries: list[EntryIn] = Field(max_length=MAX_BATCH)


# plain pydantic models, not ninja Schemas: a batch holds 5,000 entries, and a Schema reads
# every field of every one through its Django-object getter (a third of a request's time)


class EntryActionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    code: str
    zh_hans: str = Field(alias="zh-hans")
    en: str


class EntryOut(BaseModel):
    id: UUID
    venue_id: UUID
    entered_at: datetime
    colour: str
    holder: str = Field(description="the holder's name, masked")
    admitted: bool
    actions: list[EntryActionOut]
    new: bool = Field(description="false when an earlier upload stored this entry")


class EntryBatchOut(BaseModel):
    stored: int
    duplicates: int
    entries: list[EntryOut]


def _action(code: str) -> dict:
    zh, en = gate.ACTIONS[code]
    return {"code": code, "zh-hans": zh, "en": en}


@router.post("/entries", response={201: EntryBatchOut}, summary="Upload a batch of entries")
@requires()
def upload_entries(request, payload: EntryBatchIn):
    # the items go to the service as they were parsed: an EntryIn has EntryInput's fields
    result = ingest_entries(actor=Actor.from_api(request), items=payload.entries)
    body = {
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
    }
    # written by orjson straight from the service's values (the shape above is EntryBatchOut's,
    # which the OpenAPI documents): validating and encoding 5,000 answers again through the
    # response model would cost a tenth of the request
    return HttpResponse(orjson.dumps(body), status=201, content_type="application/json")
