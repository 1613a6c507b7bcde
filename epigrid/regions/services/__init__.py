"""Services of the regions app, by noun (reads apart from writers):

- `divisions`: load or refresh the country's divisions from GB/T 2260 (`load_country`).
- `queries`: reading divisions (`ancestors`, `path_of`) and the risk-area list: what is in force
  or upcoming on a day, recent changes, an area's history, drafts, published rows, area names.
- `risk`: risk-area drafts (check, create, update, edit, discard) and publishing a change
  (`change_rows`, `check_change`, `change_digest`, `list_after_change`, `apply_change`).
- `risk_import`: a sheet of risk areas, parsed and checked (`parse_import`), then drafted
  (`commit_import`).
Who may list and change what is `regions.risk_scope`.

Re-exported here: the names other apps use (demo, people, rules).
"""

from epigrid.regions.services.divisions import load_country
from epigrid.regions.services.queries import area_names, path_of
from epigrid.regions.services.risk import (
    apply_change,
    change_digest,
    change_rows,
    check_change,
    list_after_change,
)

__all__ = [
    "apply_change",
    "area_names",
    "change_digest",
    "change_rows",
    "check_change",
    "list_after_change",
    "load_country",
    "path_of",
]
