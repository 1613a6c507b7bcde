"""Uploading a pushed list (phase 1): read the file, check every row (`pushed_checks`), match
and route the rows (`pushed_matching`), store them `valid` or `invalid`. Nothing reaches
anyone until the commit (`pushed_commit`)."""

import hashlib
import json
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.accounts.scoping import scope_of
from epigrid.declarations import places, tabular
from epigrid.declarations.models import (
    ListSource,
    ListStatus,
    MatchKind,
    PushedList,
    PushedRow,
    RoutedBy,
    RowState,
)
from epigrid.declarations.rows import PushedRowValues
from epigrid.declarations.services.common import record_list, require_pushed_lists
from epigrid.declarations.services.pushed_checks import checked_chunks
from epigrid.declarations.services.pushed_matching import match_rows, route_row
from epigrid.declarations.validation import DeclarationError
from epigrid.lib import tables
from epigrid.lib.bulk import insert_rows
from epigrid.lib.collector import bulk_collection

MAX_BYTES = 64 * 1024 * 1024


def area_of(user) -> str:
    """The area a user's lists belong to: their broadest division grant."""
    prefixes = scope_of(user).prefixes
    if not prefixes:
        raise DeclarationError("no_area", _("Your account has no area to push lists for."), None)
    return sorted(prefixes, key=len)[0]


def upload(
    *,
    actor: Actor,
    name: str,
    source: str,
    file_name: str,
    data: bytes,
    area: str | None = None,
    at: datetime | None = None,
) -> PushedList:
    """Read, check, match and route a pushed list; store its rows. A file that cannot be read as
    a table raises `lib.tables.TableError` before anything is stored. Returns the list,
    `rejected` with `file_errors` when its header row cannot be used, else `validated` with
    counts and per-row errors."""
    require_pushed_lists(actor)
    name = str(name or "").strip()[:128] or str(file_name or "list")[:128]
    if source not in ListSource.values:
        raise DeclarationError("source_invalid", _("Choose where the list comes from."), "source")
    if len(data) > MAX_BYTES:
        raise DeclarationError("file_too_large", _("The file is larger than 64 MB; split the list."), "file")
    area = area or area_of(actor.user)
    now = at or timezone.now()
    table = tables.open_table(data, file_name, max_rows=tabular.MAX_ROWS, max_bytes=MAX_BYTES)
    pushed = _receive(actor, name, source, file_name, data, table, area, now)
    try:
        with bulk_collection():
            _validate(pushed, table, now)
    except Exception:
        # the list must not stay "validating" forever; the row data never reaches the log
        _reject(
            actor,
            pushed,
            [tabular.Issue(None, None, "validation_failed", _("The list could not be checked."))],
        )
        raise
    else:
        if pushed.status == ListStatus.REJECTED:
            _reject(actor, pushed, [tabular.Issue(**issue) for issue in pushed.file_errors])
    pushed.refresh_from_db()
    return pushed


def _receive(
    actor: Actor, name: str, source: str, file_name: str, data: bytes, table, area: str, now: datetime
) -> PushedList:
    """The list as received, `validating`, with its audit row."""
    with transaction.atomic():
        pushed = PushedList.objects.create(
            name=name,
            source=source,
            file_name=str(file_name or "")[:255],
            file_kind=table.kind,
            file_sha256=hashlib.sha256(data).hexdigest(),
            division_code=area,
            status=ListStatus.VALIDATING,
            received_at=now,
            uploaded_by=actor.user,
        )
        record_list(
            actor, pushed, f"uploaded {pushed.file_kind}, {len(data)} bytes", action="import", fields=["file"]
        )
    return pushed


def _reject(actor: Actor, pushed: PushedList, issues: list[tabular.Issue]) -> None:
    with transaction.atomic():
        # rows stored before a fatal problem further down the file were never accepted
        PushedRow.objects.filter(pushed_list=pushed).delete()
        PushedList.objects.filter(pk=pushed.pk).update(
            status=ListStatus.REJECTED,
            file_errors=[i.as_dict() for i in issues],
            total_rows=0,
            valid_rows=0,
            error_rows=0,
            matched_by_id=0,
            matched_by_phone=0,
        )
        record_list(actor, pushed, "rejected: " + ", ".join(i.code for i in issues)[:200])


def _validate(pushed: PushedList, table: tables.Table, now: datetime) -> None:
    hmap = tabular.map_headers(table.headers, table.header_row)
    if hmap.issues:
        pushed.status = ListStatus.REJECTED
        pushed.file_errors = [i.as_dict() for i in hmap.issues]
        return
    local = places.local_index(pushed.division_code)
    ctx = tabular.RowContext(places=places.national_index(), local=local, area=pushed.division_code, now=now)
    counts: Counter = Counter()
    seen: dict[str, int] = {}
    for chunk in checked_chunks(table, hmap, ctx):
        _flag_repeats(chunk, seen, hmap)
        _store(pushed, chunk, local, counts)
    PushedList.objects.filter(pk=pushed.pk).update(
        status=ListStatus.VALIDATED,
        header_map=hmap.labels,
        ignored_columns=hmap.ignored[:50],
        total_rows=counts["total"],
        valid_rows=counts["valid"],
        error_rows=counts["invalid"],
        matched_by_id=counts[MatchKind.ID],
        matched_by_phone=counts[MatchKind.PHONE_NAME],
        routing={k: counts[f"routed:{k}"] for k in RoutedBy.values if counts[f"routed:{k}"]},
    )
    pushed.status = ListStatus.VALIDATED


def _flag_repeats(chunk: list[dict], seen: dict[str, int], hmap: tabular.HeaderMap) -> None:
    """The same person twice in the list: the later row is the error, in file order."""
    for row in chunk:
        if not row["id_number_bidx"]:
            continue
        number = row["row_number"]
        first = seen.setdefault(row["id_number_bidx"], number)
        if first != number:
            row["issues"].append(
                tabular.Issue(
                    number,
                    hmap.label("id_number"),
                    "duplicate_row",
                    _("The same document number is on row %(row)d.") % {"row": first},
                )
            )


def _store(pushed: PushedList, chunk: list[dict], local: places.LocalIndex, counts: Counter) -> None:
    match_rows([r for r in chunk if not r["issues"]], pushed.division_code)
    out = []
    for r in chunk:
        ok = not r["issues"]
        if ok:
            route_row(r, local, pushed.division_code)
            counts[r["match"]] += 1
            counts[f"routed:{r['routed_by']}"] += 1
        out.append(_row_values(pushed, r, ok))
        counts["total"] += 1
        counts["valid" if ok else "invalid"] += 1
    with transaction.atomic():
        insert_rows(PushedRow, out)


def _row_values(pushed: PushedList, r: dict, ok: bool) -> PushedRowValues:
    """A valid row is stored matched, routed and indexed. A row with errors keeps what it said
    (identifiers sealed and masked) and its errors, but no blind index, person or route, so it
    never matches nor reaches anyone."""
    v: tabular.RowValues = r["values"]
    said = {
        "id": r["id"],
        "pushed_list": pushed.pk,
        "row_number": r["row_number"],
        "name": v.name[:64],
        "doc_type": v.doc_type,
        "id_number_enc": r["id_number_enc"],
        "id_number_masked": r["id_number_masked"],
        "phone_enc": r["phone_enc"],
        "phone_masked": r["phone_masked"],
        "origin": v.origin,
        "arrived_at": v.arrived_at,
        "transport": v.transport,
        "transport_number": v.transport_number,
        "address": v.address,
    }
    if not ok:
        errors = [{"column": i.column, "code": i.code, "message": i.message} for i in r["issues"]]
        return PushedRowValues(**said, state=RowState.INVALID, errors=json.dumps(errors, ensure_ascii=False))
    return PushedRowValues(
        **said,
        state=RowState.VALID,
        id_number_bidx=r["id_number_bidx"],
        phone_bidx=r["phone_bidx"],
        division_code=r["division_code"],
        unit_id=r["unit_id"],
        routed_by=r["routed_by"],
        person=r["person"],
        match=r["match"],
    )
