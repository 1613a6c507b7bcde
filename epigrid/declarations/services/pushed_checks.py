"""Checking the rows of a pushed list: each row's checks, blind indexes and sealed identifiers,
chunk by chunk, in forked checker processes when the list is long. No database here."""

import multiprocessing
import os
import signal
import uuid
from collections.abc import Iterator

from epigrid.declarations import tabular
from epigrid.declarations.models import MatchKind
from epigrid.lib import identity, tables
from epigrid.lib.crypto import cipher
from epigrid.people.services import DOCUMENT_INDEX, PHONE_INDEX

ROW_ID_FIELD = "pushed_row.id_number"
ROW_PHONE_FIELD = "pushed_row.phone"
CHUNK = 5000  # rows checked, matched and stored together during validation


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


def checked_chunks(table: tables.Table, hmap: tabular.HeaderMap, ctx: tabular.RowContext):
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
