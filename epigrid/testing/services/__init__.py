"""The only writers of the testing app (R6). Every writer takes `actor=`, runs in one transaction
and writes its audit rows there. Results are applied set-based, batch by batch, and each batch
ends with one reassessment per affected person (`rules.services.reassess_many`).

Where each noun and verb lives:

- `common`: TestingError, the default due hours, a division or lab checked, chunks of a list
- `queries`: reads only: open points (nearest, in a division), a group's configuration, the lab
  of a user and the labs they see, overdue orders and their summary, turnaround per day
- `points`: sampling points saved (created or changed)
- `screening`: must-test groups configured, a group screened through unit rosters
- `orders`: test orders opened and cancelled with the rules' measures, walk-in orders
- `labs`: a lab user attached to a lab, the lab a request needs
- `collection`: pools opened and sealed, specimens taken, tubes received at the lab
- `checking`: result rows checked and bound to the specimens and pools they answer
- `results`: a batch of checked rows applied (results, pools, specimens, orders, retests)
- `followups`: the tasks a positive pool or a positive result opens
- `turnaround`: resulted orders counted on time or late per day, lab and county
- `reassessment`: persons reassessed after a batch (`Reassessor`, in a second process on PostgreSQL)
- `imports`: the two phases: a results file checked (`start_import`), the API's rows
  submitted; the commit that resumes is `testing.results_import.commit_import`
- `external`: a result from another region or a foreign certificate recorded
- `sequencing`: a case specimen sent for sequencing, a request moved on

Import from the sub-module (`from epigrid.testing.services.results import apply_results`);
the names below are re-exported for the callers outside that use `services.<name>` (views,
api, the `testing` command, other apps).
"""

from epigrid.testing.services.collection import open_pool, receive, seal_pool, take_specimen
from epigrid.testing.services.external import ExternalInput, record_external_result
from epigrid.testing.services.imports import start_import, submit_results
from epigrid.testing.services.labs import attach_lab_member
from epigrid.testing.services.orders import walk_in_order
from epigrid.testing.services.points import PointInput, save_point
from epigrid.testing.services.queries import (
    lab_of,
    labs_visible_to,
    nearest_points,
    open_points,
    overdue_orders,
    overdue_summary,
    points_in,
    turnaround_days,
)
from epigrid.testing.services.screening import GROUP_UNIT_KINDS, configure_group, screen_group
from epigrid.testing.services.sequencing import advance_sequencing, request_sequencing

__all__ = [
    "GROUP_UNIT_KINDS",
    "ExternalInput",
    "PointInput",
    "advance_sequencing",
    "attach_lab_member",
    "configure_group",
    "lab_of",
    "labs_visible_to",
    "nearest_points",
    "open_points",
    "open_pool",
    "overdue_orders",
    "overdue_summary",
    "points_in",
    "receive",
    "record_external_result",
    "request_sequencing",
    "save_point",
    "screen_group",
    "seal_pool",
    "start_import",
    "submit_results",
    "take_specimen",
    "turnaround_days",
    "walk_in_order",
]
