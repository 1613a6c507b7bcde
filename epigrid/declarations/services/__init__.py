"""The only writers of declarations, tips, verification tasks and pushed lists (R2.1–R2.5).

Every writer takes `actor=`, writes in one transaction with its audit row, and reassesses the
persons whose facts changed inside that same transaction. By noun and verb:

- `declarations`: declare for a person, for someone by their document, on the public page;
  withdraw a declaration.
- `follow_up`: what a declaration that counts sets going (a trip's return, the watch for a
  return, the reassessment of an arrival declared ahead).
- `verification`: open a check (落地核查) and its mirrored work item; route a check on.
- `findings`: complete a check with what was found (`FoundDetails`).
- `tips`: submit a tip (线索); reveal its reporter.
- `pushed_upload`: upload a pushed list (大数据推送): read, check, match, route, store its rows.
- `pushed_checks`: check the rows of a list (no database; forked checkers for long lists).
- `pushed_matching`: match rows to persons; route rows to grid cells, communities, the area.
- `pushed_commit`: request and run the commit of a list in batches (verification tasks,
  reassessment).
- `pushed_feedback`: write the feedback workbook (反馈); the list template.
- `queries`: read a list's errors and the progress of its checks.
- `common`: permission checks, reassessment, the audit row of a list.

The names below are the ones the app's views, API, forms, public pages and demo call through
this package; everything else is imported from its sub-module.
"""

from epigrid.declarations.services.declarations import (
    declare,
    declare_for_new_person,
    declare_public,
    withdraw,
)
from epigrid.declarations.services.findings import FoundDetails, complete_verification
from epigrid.declarations.services.tips import TipInput, reveal_reporter, submit_tip
from epigrid.declarations.services.verification import route_verification
from epigrid.declarations.validation import DeclarationInput, IdentityInput, StopInput, check_public

__all__ = [
    "DeclarationInput",
    "FoundDetails",
    "IdentityInput",
    "StopInput",
    "TipInput",
    "check_public",
    "complete_verification",
    "declare",
    "declare_for_new_person",
    "declare_public",
    "reveal_reporter",
    "route_verification",
    "submit_tip",
    "withdraw",
]
