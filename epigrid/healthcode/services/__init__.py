"""The health code's operations, by noun. The only writers of `HealthCode`, `ColourChange` and
`CorrectionRequest` (the keys live in `healthcode.keys`). A colour is never set here: it
comes from `rules.services.reassess` through the decision listener, so every colour has the
rule and clause behind it (R3.3, R4.1).

- `codes`: a person's code: `ColourInfo` (what it shows), `ensure_code` (made on first
  need), `merge_codes` (two records merge), `HealthCodeError`.
- `colours`: `record_decisions`, the decision listener: colour, reasons and history rows.
- `issuing`: signed tokens: `issue_token`, `issue_token_for_staff` (audited), `IssuedToken`.
- `verification`: `verify_online` (offline checks plus freshness), `lookup_code`.
- `corrections`: correction requests (申诉): `request_correction`, `decide_correction`.
- `queries`: reads: `history`, `corrections_of`, `open_correction_id`, `open_measures`.

Only what the views, the API, the app config and the panels import is re-exported here;
elsewhere import from the sub-module.
"""

from epigrid.healthcode.services.codes import HealthCodeError, ensure_code
from epigrid.healthcode.services.colours import record_decisions
from epigrid.healthcode.services.corrections import decide_correction, request_correction
from epigrid.healthcode.services.issuing import issue_token, issue_token_for_staff
from epigrid.healthcode.services.queries import corrections_of, history, open_correction_id, open_measures
from epigrid.healthcode.services.verification import verify_online

__all__ = [
    "HealthCodeError",
    "corrections_of",
    "decide_correction",
    "ensure_code",
    "history",
    "issue_token",
    "issue_token_for_staff",
    "open_correction_id",
    "open_measures",
    "record_decisions",
    "request_correction",
    "verify_online",
]
