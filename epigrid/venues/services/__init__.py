"""The only writers of venues, entries, checkpoints and contact candidates, by noun.

- `entries`: `ingest_entries` (one entry or a device's queue; idempotent by the device's ids),
  `record_exit`, `EntryInput`.
- `access`: who may record where (venue staff, checkpoint shifts, scope).
- `alerts`: the tasks and reassessments an entry or a checkpoint record sets going.

Only what views, the API and other apps import is re-exported here.
"""

from epigrid.venues.services.entries import EntryError, EntryInput, IngestResult, ingest_entries, record_exit

__all__ = ["EntryError", "EntryInput", "IngestResult", "ingest_entries", "record_exit"]
