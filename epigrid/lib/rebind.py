"""Data migrations that seal stored ciphertexts again under the current version and key, each
bound to its row (`lib.crypto`): a table read in key order a batch at a time, each batch
written back in one statement (`lib.bulk.update_rows`) and committed on its own, so a killed
migration resumes where it stopped (a ciphertext already sealed this way is left alone)."""

from typing import NamedTuple

from django.db import transaction

from epigrid.lib.bulk import update_rows
from epigrid.lib.crypto import cipher

BATCH = 5000


def rebind_table(
    model,
    columns: dict[str, str],
    *,
    row_field: str | None = None,
    batch: int = BATCH,
    using: str = "default",
) -> int:
    """Seal `columns` ({column: field name}) of every row of `model` for that row: the row's
    id is its primary key, or `row_field` where the ciphertext is bound to a natural key made
    before the row's own id. Returns how many rows were rewritten."""
    c = cipher()
    pk = model._meta.pk.name
    names = list(columns)
    fields = [columns[name] for name in names]
    read = [pk, *([row_field] if row_field else []), *names]
    # the row type of this table's rewrite: its key and the sealed columns, by field name
    Sealed = NamedTuple("Sealed", [(pk, object), *((name, bytes) for name in names)])
    manager = model._default_manager.db_manager(using)
    rewritten, last = 0, None
    while True:
        rows = manager.order_by(pk)
        if last is not None:
            rows = rows.filter(pk__gt=last)
        rows = list(rows.values_list(*read)[:batch])
        if not rows:
            return rewritten
        changed = []
        for values in rows:
            key, blobs = values[0], values[2:] if row_field else values[1:]
            row = values[1] if row_field else key
            sealed = [c.rebind(field, blob, row=row) for field, blob in zip(fields, blobs, strict=True)]
            if any(s is not None for s in sealed):
                kept = [b if s is None else s for s, b in zip(sealed, blobs, strict=True)]
                blobs_out = {n: None if b is None else bytes(b) for n, b in zip(names, kept, strict=True)}
                changed.append(Sealed(**{pk: key}, **blobs_out))
        if changed:
            with transaction.atomic(using=using):
                update_rows(model, changed, key=pk, using=using)
        rewritten += len(changed)
        last = rows[-1][0]
