"""Pushed lists from the data team (大数据推送, R2.4, JS79-2, JS79-4): the only writers.

Two phases, as the data team works:

1. `upload` reads the file, checks every row (errors named by row and column), encrypts the
   identifiers, matches rows to persons by the document blind index or by phone and name
   (one query per few thousand rows), routes each row to the grid cell, community or unit
   responsible, and stores the rows as `valid` or `invalid`. Nothing reaches anyone yet.
2. `request_commit` queues the commit; `run_commit` (the background task) commits the valid
   rows in batches: each batch in one transaction opens the verification tasks, marks its rows
   `committed` and reassesses the matched persons. A crash loses at most the batch in flight;
   running the commit again continues with the rows still `valid`, so nothing is created twice.

`write_feedback` streams the list back as XLSX with each row's result for the data team.
"""

import hashlib
import json
import math
import multiprocessing
import os
import signal
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of
from epigrid.declarations import places, tabular
from epigrid.declarations.models import (
    ListSource,
    ListStatus,
    MatchKind,
    Outcome,
    PushedList,
    PushedRow,
    RoutedBy,
    RowState,
    VerificationKind,
    VerificationStatus,
    VerificationTask,
)
from epigrid.declarations.services import DeclarationError, assignee_for, task_texts
from epigrid.lib import exports, identity, jobs, queue, tables
from epigrid.lib.bulk import insert_rows
from epigrid.lib.collector import bulk_collection
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Conflict, Forbidden
from epigrid.lib.sql import any_of, asynchronous_commit
from epigrid.people.models import Person, Status
from epigrid.people.services import DOCUMENT_INDEX, PHONE_INDEX
from epigrid.rules.services import reassess_many
from epigrid.tasks.due import due_time
from epigrid.tasks.services import TaskSpec, open_tasks_bulk

ROW_ID_FIELD = "pushed_row.id_number"
ROW_PHONE_FIELD = "pushed_row.phone"
CHUNK = 5000  # rows checked, matched and stored together during validation
MAX_BYTES = 64 * 1024 * 1024
MAX_ERRORS_SHOWN = 200

ROW_FIELDS = [
    "id",
    "pushed_list",
    "row_number",
    "state",
    "errors",
    "name",
    "doc_type",
    "id_number_enc",
    "id_number_bidx",
    "id_number_masked",
    "phone_enc",
    "phone_bidx",
    "phone_masked",
    "origin",
    "arrived_at",
    "transport",
    "transport_number",
    "address",
    "division_code",
    "unit_id",
    "routed_by",
    "person",
    "match",
    "excluded_from_facts",
]
TASK_FIELDS = [
    "id",
    "kind",
    "pushed_row",
    "person",
    "division_code",
    "unit_id",
    "assignee",
    "due_at",
    "created_at",
    "status",
    "outcome",
    "notes",
]


def _require(actor: Actor) -> None:
    if actor.user is not None and not actor.user.has_epigrid_perm(Perm.PUSHED_LISTS):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))


def area_of(user) -> str:
    """The area a user's lists belong to: their broadest division grant."""
    prefixes = scope_of(user).prefixes
    if not prefixes:
        raise DeclarationError("no_area", _("Your account has no area to push lists for."), None)
    return sorted(prefixes, key=len)[0]


# --- phase 1: upload, check, match, route ----------------------------------------------------


def _persons_by(column: str, keys: set[str]) -> list[tuple]:
    """(key, id, name, division) of the active persons whose `column` is one of `keys`: one
    indexed lookup for thousands of keys. Plain SQL: the ORM spends longer preparing 5,000
    parameters than the database spends answering."""
    if not keys:
        return []
    table = connection.ops.quote_name(Person._meta.db_table)
    key = connection.ops.quote_name(Person._meta.get_field(column).column)
    if connection.vendor == "postgresql":
        condition, params = f"{key} = ANY(%s)", [list(keys)]
    else:
        condition, params = f"{key} IN ({', '.join(['%s'] * len(keys))})", list(keys)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {key}, id, name, division_code FROM {table} WHERE status = %s AND {condition}",
            [Status.ACTIVE, *params],
        )
        # ids stay as the database gives them (hex text on SQLite): they only go back into it
        return cursor.fetchall()


def _current_units(person_ids: set) -> dict:
    """The unit each person is on the current roster of (the earliest entry), in one query; the
    roster model is reached through Person's relation so this app does not import units."""
    roster = Person._meta.get_field("roster_entries").related_model
    quote = connection.ops.quote_name
    table = quote(roster._meta.db_table)
    person_col = quote(roster._meta.get_field("person").column)
    unit_col = quote(roster._meta.get_field("unit").column)
    prep = Person._meta.pk.get_db_prep_value
    keys = [prep(pk, connection) if not isinstance(pk, str) else pk for pk in person_ids]
    if connection.vendor == "postgresql":
        condition, params = f"{person_col} = ANY(%s)", [keys]
    else:
        condition, params = f"{person_col} IN ({', '.join(['%s'] * len(keys))})", keys
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {person_col}, {unit_col} FROM {table} WHERE ended_on IS NULL AND {condition} "
            f"ORDER BY started_on",
            params,
        )
        rows = cursor.fetchall()
    units: dict = {}
    for person_id, unit_id in rows:
        units.setdefault(person_id, unit_id)
    return units


def _match(rows: list[dict], area: str) -> None:
    """Match a chunk of rows to persons with two queries (document index, then phone and name)
    and find the units of the persons matched with one more. Only persons registered in the
    list's area are matched: a list never changes, nor tells its team about, a person outside
    the team's scope (a row of such a person is checked on the ground like an unknown one)."""
    divisions = {}
    by_id = [r for r in rows if r["id_number_bidx"]]
    if by_id:
        found = {}
        for bidx, pk, _name, division in _persons_by("id_number_bidx", {r["id_number_bidx"] for r in by_id}):
            if not division.startswith(area):
                continue
            found[bidx] = pk
            divisions[pk] = division
        for r in by_id:
            if r["id_number_bidx"] in found:
                r["person"], r["match"] = found[r["id_number_bidx"]], MatchKind.ID
    by_phone = [r for r in rows if r["person"] is None and r["phone_bidx"]]
    if by_phone:
        candidates = defaultdict(list)
        for phone_bidx, pk, name, division in _persons_by("phone_bidx", {r["phone_bidx"] for r in by_phone}):
            if not division.startswith(area):
                continue
            candidates[(phone_bidx, name.replace(" ", "").upper())].append(pk)
            divisions[pk] = division
        for r in by_phone:
            pks = candidates.get((r["phone_bidx"], r["name"].replace(" ", "").upper()), [])
            if len(pks) == 1:
                r["person"], r["match"] = pks[0], MatchKind.PHONE_NAME
    matched = {r["person"] for r in rows if r["person"] is not None}
    if matched:
        units = _current_units(matched)
        for r in rows:
            if r["person"] is not None:
                r["person_division"] = divisions.get(r["person"], "")
                r["unit_id"] = units.get(r["person"])


def _route(row: dict, local: places.LocalIndex, area: str) -> None:
    """By the division code in the list; else by the community named in the address; else by
    the matched person's registered grid cell (when the address names no place or only the town
    around it); else by the town in the address; else to the command of the list's area."""
    if row["division_code"]:
        row["routed_by"] = RoutedBy.DIVISION_CODE
        return
    by_address = row["by_address"]  # found by the checks (`_check`)
    residence = row.get("person_division") or ""
    if not (residence.startswith(area) and local.exists(residence)):
        residence = ""
    if by_address and (len(by_address) >= 12 or not residence.startswith(by_address)):
        row["division_code"], row["routed_by"] = by_address, RoutedBy.ADDRESS
    elif residence:
        row["division_code"], row["routed_by"] = residence, RoutedBy.PERSON
    else:
        row["division_code"], row["routed_by"] = area, RoutedBy.LIST_AREA


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
    _require(actor)
    name = str(name or "").strip()[:128] or str(file_name or "list")[:128]
    if source not in ListSource.values:
        raise DeclarationError("source_invalid", _("Choose where the list comes from."), "source")
    if len(data) > MAX_BYTES:
        raise DeclarationError("file_too_large", _("The file is larger than 64 MB; split the list."), "file")
    area = area or area_of(actor.user)
    now = at or timezone.now()
    table = tables.open_table(data, file_name, max_rows=tabular.MAX_ROWS, max_bytes=MAX_BYTES)
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
        record(
            actor,
            "import",
            object_type="pushed_list",
            object_id=pushed.pk,
            division_code=area,
            fields=["file"],
            note=f"uploaded {pushed.file_kind}, {len(data)} bytes",
        )
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
        record(
            actor,
            "update",
            object_type="pushed_list",
            object_id=pushed.pk,
            division_code=pushed.division_code,
            fields=["status"],
            note="rejected: " + ", ".join(i.code for i in issues)[:200],
        )


# A list at least this long is checked by worker processes beside the one matching and storing
# (one per core): the checks of a row are plain functions, the rest waits on the database.
PARALLEL_ROWS = 20_000
_checking: tuple | None = None  # in a checker process: (header map, row context)


def _check(number: int, cells: tuple, hmap: tabular.HeaderMap, ctx: tabular.RowContext, c) -> dict:
    """One row's checks, blind indexes and sealed identifiers: no database, no shared state."""
    values, issues = tabular.validate_row(cells, hmap, ctx, number)
    document = values.id_number or values.raw_id_number
    phone = values.phone or values.raw_phone
    by_address = ""
    if not values.division_code and ctx.local is not None:
        by_address = ctx.local.match_address(values.address) or ""
    row_id = uuid.uuid4()  # made first: the row's ciphertexts are bound to it
    return {
        "id": row_id,
        "row_number": number,
        "values": values,
        "issues": issues,
        "id_number_bidx": c.blind_index(DOCUMENT_INDEX, values.id_number) if values.id_number else "",
        "phone_bidx": c.blind_index(PHONE_INDEX, values.phone) if values.phone else "",
        "id_number_enc": c.encrypt(ROW_ID_FIELD, document, row=row_id) if document else None,
        "id_number_masked": identity.mask_document(document)[:32] if document else "",
        "phone_enc": c.encrypt(ROW_PHONE_FIELD, phone, row=row_id) if phone else None,
        "phone_masked": identity.mask_phone(phone)[:24] if phone else "",
        "name": values.name,
        "person": None,
        "match": MatchKind.NONE,
        "unit_id": None,
        "division_code": values.division_code,
        "address": values.address,
        # the place the address names, for routing (a few hundred substring tests a row)
        "by_address": by_address,
    }


def _checker_started(hmap: tabular.HeaderMap, ctx: tabular.RowContext) -> None:
    """In each checker: the list's header map and context, handed over by the fork (set here,
    in the child, so concurrent uploads in one server process never see each other's)."""
    global _checking
    _checking = (hmap, ctx)
    # a checker forked from a server worker inherits the server's signal handlers (gunicorn's
    # SIGTERM only flags the worker to stop): the pool's terminate() must end a checker for sure
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _check_chunk(raw: list[tuple[int, tuple]]) -> list[dict]:
    hmap, ctx = _checking
    c = cipher()
    return [_check(number, cells, hmap, ctx, c) for number, cells in raw]


def _raw_chunks(rows) -> Iterator[list[tuple[int, tuple]]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _checked_chunks(table: tables.Table, hmap: tabular.HeaderMap, ctx: tabular.RowContext):
    """Chunks of checked rows in file order: on a multi-core machine and a long list, from forked
    checker processes while this one matches and stores the chunks before; else right here."""
    workers = min(os.cpu_count() or 1, 4)
    if workers < 2 or (table.size_hint or 0) < PARALLEL_ROWS:
        c = cipher()
        for raw in _raw_chunks(table.rows):
            yield [_check(number, cells, hmap, ctx, c) for number, cells in raw]
        return
    # fork: the checkers inherit the place indexes and settings instead of rebuilding them, and
    # never touch the database connection they inherit
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_checker_started, initargs=(hmap, ctx)) as pool:
        yield from pool.imap(_check_chunk, _raw_chunks(table.rows))


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
    for chunk in _checked_chunks(table, hmap, ctx):
        for row in chunk:
            # the same person twice in the list: the later row is the error, in file order
            if row["id_number_bidx"]:
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


def _store(pushed: PushedList, chunk: list[dict], local: places.LocalIndex, counts: Counter) -> None:
    valid = [r for r in chunk if not r["issues"]]
    _match(valid, pushed.division_code)
    out = []
    for r in chunk:
        v: tabular.RowValues = r["values"]
        ok = not r["issues"]
        if ok:
            _route(r, local, pushed.division_code)
            counts[r["match"]] += 1
            counts[f"routed:{r['routed_by']}"] += 1
        out.append(
            (
                r["id"],
                pushed.pk,
                r["row_number"],
                RowState.VALID if ok else RowState.INVALID,
                ""
                if ok
                else json.dumps(
                    [{"column": i.column, "code": i.code, "message": i.message} for i in r["issues"]],
                    ensure_ascii=False,
                ),
                v.name[:64],
                v.doc_type,
                r["id_number_enc"],
                r["id_number_bidx"] if ok else "",
                r["id_number_masked"],
                r["phone_enc"],
                r["phone_bidx"] if ok else "",
                r["phone_masked"],
                v.origin,
                v.arrived_at,
                v.transport,
                v.transport_number,
                v.address,
                r["division_code"] if ok else "",
                r["unit_id"] if ok else None,
                r.get("routed_by", "") if ok else "",
                r["person"] if ok else None,
                r["match"] if ok else "",
                False,
            )
        )
        counts["total"] += 1
        counts["valid" if ok else "invalid"] += 1
    with transaction.atomic():
        insert_rows(PushedRow, ROW_FIELDS, out)


# --- phase 2: commit in batches --------------------------------------------------------------


def request_commit(
    *,
    actor: Actor,
    pushed: PushedList,
    skip_invalid: bool = False,
    due_hours: int | None = None,
    batch_size: int | None = None,
    enqueue: bool = True,
    at: datetime | None = None,
) -> PushedList:
    """Queue the commit of a validated list. A list with invalid rows is committed only when the
    data team says to leave those rows out (they stay in the feedback file with their errors)."""
    _require(actor)
    now = at or timezone.now()
    with transaction.atomic():
        pushed = PushedList.objects.select_for_update().get(pk=pushed.pk)
        if pushed.status not in (ListStatus.VALIDATED, ListStatus.FAILED):
            raise Conflict(
                "list_not_committable",
                _("Only a validated list, or one whose commit was interrupted, can be committed."),
            )
        if pushed.valid_rows == 0:
            raise DeclarationError("list_empty", _("The list has no valid rows to commit."), None)
        if pushed.error_rows and not skip_invalid:
            raise DeclarationError(
                "list_has_errors",
                _("Rows have errors: correct the file and upload it again, or commit the valid rows only."),
                "skip_invalid",
            )
        if due_hours is not None:
            if not 1 <= int(due_hours) <= 168:
                raise DeclarationError(
                    "due_hours_range", _("Checks are due within 1 to 168 hours."), "due_hours"
                )
            pushed.due_hours = int(due_hours)
        if batch_size is not None:
            if not 1 <= int(batch_size) <= 20_000:
                raise DeclarationError("batch_size_range", _("A batch holds 1 to 20,000 rows."), "batch_size")
            pushed.batch_size = int(batch_size)
        remaining = PushedRow.objects.filter(pushed_list=pushed, state=RowState.VALID).count()
        pushed.skip_invalid = skip_invalid
        pushed.batches_total = pushed.batches_done + math.ceil(remaining / pushed.batch_size)
        pushed.status = ListStatus.QUEUED
        pushed.queued_at, pushed.queued_by = now, actor.user
        pushed.error = ""
        pushed.save()
        record(
            actor,
            "update",
            object_type="pushed_list",
            object_id=pushed.pk,
            division_code=pushed.division_code,
            fields=["status"],
            note=f"commit queued: {remaining} rows in {pushed.batches_total - pushed.batches_done} batches",
        )
        if enqueue:
            from epigrid.declarations.tasks import commit_pushed_list

            # queued and its task in one transaction: a crash right after the commit cannot leave
            # a list queued for a task that was never written
            list_id, user_id = str(pushed.pk), getattr(actor.user, "pk", None)
            queue.enqueue(commit_pushed_list, send=lambda: _enqueue(list_id, user_id))
    return pushed


# Commit tasks queued per list. On PostgreSQL as many `epigrid worker` processes share one list
# (each batch takes rows nobody holds); a task that finds the list done does nothing.
COMMIT_TASKS = 2


def _enqueue(list_id: str, user_id) -> None:
    from epigrid.declarations.tasks import commit_pushed_list

    results = [
        commit_pushed_list.enqueue(list_id, user_id) for _ in range(COMMIT_TASKS if parallel_commits() else 1)
    ]
    PushedList.objects.filter(pk=list_id).update(task_result_id=str(results[0].id)[:64])


def parallel_commits() -> bool:
    """Whether several workers may commit one list at once: on PostgreSQL each batch takes its
    rows with FOR UPDATE SKIP LOCKED, so workers share a list without ever taking the same row;
    SQLite has one writer at a time, so a second worker would only wait."""
    return connection.vendor == "postgresql"


def run_commit(*, list_id, actor: Actor, at: datetime | None = None) -> PushedList:
    """Commit the list's remaining valid rows, batch by batch. Safe to run again at any time, and
    on PostgreSQL by several workers at once: each batch takes only rows not yet committed (and
    not taken by another worker). On SQLite a live commit is left alone; one whose heartbeat
    stopped (a crash) is taken over (`declarations.jobs` queues such a list again by itself)."""
    now = at or timezone.now()
    claimable = Q(status__in=[ListStatus.QUEUED, ListStatus.FAILED]) | Q(
        status=ListStatus.COMMITTING, heartbeat_at__lt=jobs.cutoff()
    )
    if parallel_commits():
        claimable |= Q(status=ListStatus.COMMITTING)
    claimed = (
        PushedList.objects.filter(pk=list_id)
        .filter(claimable)
        .update(status=ListStatus.COMMITTING, heartbeat_at=timezone.now())
    )
    pushed = PushedList.objects.get(pk=list_id)
    if not claimed:
        return pushed
    PushedList.objects.filter(pk=list_id, commit_started_at__isnull=True).update(
        commit_started_at=timezone.now()
    )
    try:
        with bulk_collection():
            while _commit_batch(pushed, actor, now):
                pass
    except Exception as exc:
        PushedList.objects.filter(pk=list_id).update(
            status=ListStatus.FAILED,
            error=f"{type(exc).__name__} in batch {PushedList.objects.get(pk=list_id).batches_done + 1}",
        )
        raise
    with transaction.atomic():
        # the last worker to finish marks the list; rows another worker still holds are valid
        if PushedRow.objects.filter(pushed_list_id=list_id, state=RowState.VALID).exists():
            pushed.refresh_from_db()
            return pushed
        marked = PushedList.objects.filter(pk=list_id, status=ListStatus.COMMITTING).update(
            status=ListStatus.COMMITTED, committed_at=timezone.now()
        )
        if marked:
            record(
                actor,
                "update",
                object_type="pushed_list",
                object_id=list_id,
                division_code=pushed.division_code,
                fields=["status"],
                note="committed",
            )
    pushed.refresh_from_db()
    return pushed


def _commit_batch(pushed: PushedList, actor: Actor, now: datetime) -> bool:
    """One batch, whole or not at all. Returns False when no valid row is left for this worker."""
    with transaction.atomic():
        asynchronous_commit()
        rows = list(
            PushedRow.objects.filter(pushed_list_id=pushed.pk, state=RowState.VALID)
            .order_by("row_number")
            .select_for_update(skip_locked=True)
            .values(
                "id",
                "row_number",
                "name",
                "origin",
                "arrived_at",
                "address",
                "division_code",
                "unit_id",
                "person_id",
            )[: pushed.batch_size]
        )
        if not rows:
            return False
        # the list's hours count from its receipt, or from this commit when it comes later
        # (a resumed commit): no row's check is overdue when it reaches its community
        window = timedelta(hours=pushed.due_hours)
        due = due_time(pushed.received_at + window, now, window)
        origins = {r["origin"] for r in rows if r["origin"]}
        labels = (places.place_labels(origins, "zh-hans"), places.place_labels(origins, "en"))
        task_rows, specs = [], []
        for r in rows:
            task_id = uuid.uuid4()
            assignee = assignee_for(r["division_code"])
            task_rows.append(
                (
                    task_id,
                    VerificationKind.PUSHED_ROW,
                    r["id"],
                    r["person_id"],
                    r["division_code"],
                    r["unit_id"],
                    assignee,
                    due,
                    now,
                    VerificationStatus.OPEN,
                    "",
                    "",
                )
            )
            texts = task_texts(
                VerificationKind.PUSHED_ROW,
                name=r["name"],
                origin=r["origin"],
                arrived=r["arrived_at"],
                address=r["address"],
                labels=labels,
            )
            specs.append(
                TaskSpec(
                    kind="verification",
                    division_code=r["division_code"],
                    assignee=assignee,
                    due_at=due,
                    within=window,
                    person_id=r["person_id"],
                    unit_id=r["unit_id"],
                    source_type="verification",
                    source_id=str(task_id),
                    **texts,
                )
            )
        insert_rows(VerificationTask, TASK_FIELDS, task_rows)
        open_tasks_bulk(actor=actor, specs=specs, at=now)
        ids = [r["id"] for r in rows]
        # the batch's number is its slice of the list: workers take the rows in row order, so
        # the rows before this batch are committed or held by batches in flight, whole slices
        # (numbered here, not from the list's counter, whose row stays unlocked until the end)
        before = PushedRow.objects.filter(
            pushed_list_id=pushed.pk,
            state__in=[RowState.VALID, RowState.COMMITTED],
            row_number__lt=rows[0]["row_number"],
        ).count()
        batch = before // pushed.batch_size + 1
        # the rows were locked when read, so nobody changed them since: a mismatch is a bug
        committed = (
            any_of(PushedRow.objects, "id", ids)
            .filter(state=RowState.VALID)
            .update(state=RowState.COMMITTED, committed_at=now, batch=batch)
        )
        if committed != len(rows):
            raise RuntimeError("rows of the batch changed while it was committed")
        person_ids = list(dict.fromkeys(r["person_id"] for r in rows if r["person_id"]))
        evaluated = 0
        if person_ids:  # the rows count as facts from here: the rules see their arrivals
            # one reassessment batch for the list's batch: a query per facts source, not three
            evaluated = reassess_many(
                person_ids, actor=actor, at=now, cause="pushed_list", batch_size=len(person_ids)
            ).evaluated
        # numbered last: the list's row is locked from here to the commit only, so workers
        # sharing the list overlap in everything above
        PushedList.objects.filter(pk=pushed.pk).update(
            batches_done=F("batches_done") + 1,
            committed_rows=F("committed_rows") + committed,
            reassessed=F("reassessed") + evaluated,
            heartbeat_at=timezone.now(),
        )
        record(
            actor,
            "import",
            object_type="pushed_list",
            object_id=pushed.pk,
            division_code=pushed.division_code,
            fields=["rows", "verification_tasks"],
            note=f"batch {batch}: {committed} rows, {len(task_rows)} checks",
        )
    return True


# --- what the data team sees --------------------------------------------------------------------


def row_errors(pushed: PushedList, limit: int = MAX_ERRORS_SHOWN) -> list[tabular.Issue]:
    """The first errors of a list, as "row N, column C: message"."""
    issues = [tabular.Issue(**e) for e in pushed.file_errors]
    for number, errors in (
        PushedRow.objects.filter(pushed_list=pushed, state=RowState.INVALID)
        .order_by("row_number")
        .values_list("row_number", "errors")[:limit]
    ):
        issues += [
            tabular.Issue(number, e["column"], e["code"], e["message"]) for e in json.loads(errors or "[]")
        ]
    return issues[:limit]


def progress(pushed: PushedList) -> dict:
    """Counts of the checks opened for the list, by status and outcome (one GROUP BY)."""
    counts = Counter()
    for status, outcome, n in (
        VerificationTask.objects.filter(pushed_row__pushed_list=pushed)
        .values("status", "outcome")
        .order_by()
        .annotate(n=Count("id"))
        .values_list("status", "outcome", "n")
    ):
        counts[status] += n
        if outcome:
            counts[outcome] += n
    return {
        "open": counts[VerificationStatus.OPEN],
        "done": counts[VerificationStatus.DONE],
        "outcomes": {o: counts[o] for o in Outcome.values},
    }


def feedback_headers() -> list[str]:
    return [
        _("Row"),
        _("Name"),
        _("Document number (masked)"),
        _("Phone (masked)"),
        _("Check of the row"),
        _("Matched by"),
        _("Routed to"),
        _("Routed by"),
        _("Verification"),
        _("Outcome"),
        _("Verified at"),
        _("Notes"),
    ]


def feedback_rows(pushed: PushedList, language: str):
    """Each row of the list with its check, match, routing and verification result, in row
    order, read in chunks (a list of 100,000 rows never sits in memory)."""
    codes = set(
        PushedRow.objects.filter(pushed_list=pushed)
        .exclude(division_code="")
        .values_list("division_code", flat=True)
        .distinct()
    )
    labels = places.place_labels(codes, language)
    matches = dict(MatchKind.choices)
    routed = dict(RoutedBy.choices)
    outcomes = dict(Outcome.choices)
    statuses = dict(VerificationStatus.choices)
    states = {
        RowState.INVALID: _("errors"),
        RowState.VALID: _("valid, not committed"),
        RowState.COMMITTED: _("ok"),
    }
    rows = (
        PushedRow.objects.filter(pushed_list=pushed)
        .order_by("row_number")
        .values_list(
            "row_number",
            "name",
            "id_number_masked",
            "phone_masked",
            "state",
            "errors",
            "match",
            "division_code",
            "routed_by",
            "verification__status",
            "verification__outcome",
            "verification__verified_at",
            "verification__notes",
        )
    )
    for (
        number,
        name,
        id_masked,
        phone_masked,
        state,
        errors,
        match,
        division,
        routed_by,
        v_status,
        outcome,
        verified_at,
        notes,
    ) in rows.iterator(chunk_size=5000):
        issues = json.loads(errors) if errors else []
        check = "; ".join(f"{e['column']}: {e['message']}" for e in issues) if issues else str(states[state])
        yield [
            number,
            name,
            id_masked,
            phone_masked,
            check,
            str(matches.get(match, "")) if state != RowState.INVALID else "",
            f"{labels.get(division, division)} ({division})" if division else "",
            str(routed.get(routed_by, "")) if routed_by else "",
            str(statuses.get(v_status, "")) if v_status else "",
            str(outcomes.get(outcome, "")) if outcome else "",
            timezone.localtime(verified_at).strftime("%Y-%m-%d %H:%M") if verified_at else "",
            notes or "",
        ]


def write_feedback(*, actor: Actor, pushed: PushedList, fileobj, language: str = "zh-hans") -> int:
    """The feedback workbook (反馈), written row by row; every cell text, never a formula (the
    names and notes in it come from outside: `lib.exports`). Returns the number of rows; the
    export is audited."""
    _require(actor)
    workbook = exports.Workbook()
    headers = feedback_headers()
    sheet = workbook.sheet(_("Feedback"), columns=len(headers))
    sheet.append(headers)
    n = 0
    for row in feedback_rows(pushed, language):
        sheet.append(row)
        n += 1
    if pushed.file_errors:
        problems = workbook.sheet(_("File errors"), columns=1)
        for issue in pushed.file_errors:
            problems.append([tabular.Issue(**issue).text])
    with transaction.atomic():
        record(
            actor,
            "export",
            object_type="pushed_list",
            object_id=pushed.pk,
            division_code=pushed.division_code,
            fields=["feedback"],
            note=f"{n} rows",
        )
    workbook.save(fileobj)
    return n


def template_workbook(fileobj) -> None:
    """An empty list with the expected Chinese headers and one example row; every column
    formatted as text, so document numbers typed in keep their digits."""
    workbook = exports.Workbook()
    rows = tabular.template_rows()
    sheet = workbook.sheet("名单", columns=len(rows[0]), width=18)
    for row in rows:
        sheet.append(row)
    workbook.save(fileobj)
