"""Roles and what each may do: the one table every permission check reads.

A role says *what* a user may do; the user's scope grants (division prefixes, units) say
*where*. Keep the table small and readable: a reviewer should see every role's powers here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PROVINCE_COMMAND = "province_command", _("Province command")
    CITY_COMMAND = "city_command", _("City command")
    COUNTY_COMMAND = "county_command", _("County command")
    CDC = "cdc", _("CDC epidemiologist")
    GRID_WORKER = "grid_worker", _("Grid worker")
    UNIT_MANAGER = "unit_manager", _("Unit manager")
    SAMPLING = "sampling", _("Sampling staff")
    LAB = "lab", _("Lab")
    CHECKPOINT = "checkpoint", _("Checkpoint / venue staff")
    MEDICAL = "medical", _("Medical institution staff")
    AUDITOR = "auditor", _("Auditor")
    DATA_TEAM = "data_team", _("Data team")
    ADMIN = "admin", _("Administrator")


class Perm:
    """Permission names. Strings so they read the same in code, tests and docs."""

    REGIONS_VIEW = "regions.view"
    REGIONS_EDIT = "regions.edit"
    PEOPLE_VIEW = "people.view"
    PEOPLE_EDIT = "people.edit"
    PEOPLE_REVEAL = "people.reveal"
    PEOPLE_MERGE = "people.merge"
    UNITS_VIEW = "units.view"
    UNITS_EDIT = "units.edit"
    ROSTER_EDIT = "units.roster_edit"
    AUDIT_VIEW = "audit.view"
    TOKENS_OWN = "tokens.own"
    USERS_MANAGE = "users.manage"
    # arrivals (R2)
    DECLARATIONS_VIEW = "declarations.view"
    DECLARATIONS_EDIT = "declarations.edit"  # enter a declaration for someone
    VERIFY = "declarations.verify"  # do verification tasks on the ground
    PUSHED_LISTS = "declarations.pushed_lists"  # upload and commit pushed lists, download feedback
    TIPS_VIEW = "declarations.tips"  # read tips (the reporter stays hidden unless TIPS_REPORTER)
    TIPS_REPORTER = "declarations.tips_reporter"
    # rules (R3)
    # risk areas (R3.1): drafts and publication inside one's jurisdiction (regions.risk_scope)
    RISK_EDIT = "rules.risk_edit"  # draft risk-area changes
    RISK_PUBLISH = "rules.risk_publish"  # publish a risk-area change: the commands' (JX57-2.3)
    RULES_PUBLISH = "rules.publish"  # what-if previews, bulk reassessments (and with RISK_PUBLISH, publish)
    TASKS_VIEW = "tasks.view"
    TASKS_DO = "tasks.do"
    # testing (R6)
    TESTING_VIEW = "testing.view"
    SAMPLING_DO = "testing.sample"  # take specimens, build pools
    LAB_RESULTS = "testing.results"  # upload and enter results
    TESTING_MANAGE = "testing.manage"  # sampling points, must-test groups, labs
    SEQUENCING = "testing.sequencing"
    # health code (R4)
    HEALTHCODE_VIEW = "healthcode.view"  # see a person's colour and reasons
    HEALTHCODE_SCAN = "healthcode.scan"  # checkpoint / venue scanning (colour only)
    HEALTHCODE_REVIEW = "healthcode.review"  # decide correction requests (申诉)
    HEALTHCODE_KEYS = "healthcode.keys"  # rotate signing keys, manage trusted issuers
    # venues, checkpoints and scans (R5)
    VENUES_VIEW = "venues.view"  # venues, their entries (colour, masked name, time) and occupancy
    VENUES_REGISTER = "venues.register"  # register a venue (its owner) and edit it
    VENUES_APPROVE = "venues.approve"  # approve a venue and issue its code (the community or town)
    VENUES_ENTRY = "venues.entry"  # record entries at venues in scope (besides a venue's own staff)
    CHECKPOINT_RECORD = "venues.checkpoint"  # record vehicles and occupants at checkpoints in scope
    CHECKPOINTS_MANAGE = "venues.checkpoints_manage"  # checkpoints, shifts and their staff
    TRAJECTORY = "venues.trajectory"  # a person's entries and checkpoint passes (查轨迹), audited
    COLOCATION = "venues.colocation"  # co-location searches and contact candidates


_COMMAND = {
    Perm.DECLARATIONS_VIEW,
    Perm.DECLARATIONS_EDIT,
    Perm.PUSHED_LISTS,
    Perm.TIPS_VIEW,
    Perm.RISK_EDIT,
    Perm.RISK_PUBLISH,
    Perm.RULES_PUBLISH,
    Perm.TASKS_VIEW,
    Perm.TESTING_VIEW,
    Perm.HEALTHCODE_VIEW,
    Perm.REGIONS_VIEW,
    Perm.REGIONS_EDIT,
    Perm.PEOPLE_VIEW,
    Perm.PEOPLE_EDIT,
    Perm.PEOPLE_REVEAL,
    Perm.PEOPLE_MERGE,
    Perm.UNITS_VIEW,
    Perm.UNITS_EDIT,
    Perm.ROSTER_EDIT,
    Perm.TOKENS_OWN,
    Perm.VENUES_VIEW,
    Perm.VENUES_REGISTER,
    Perm.VENUES_APPROVE,
    Perm.CHECKPOINTS_MANAGE,
    Perm.TRAJECTORY,
    Perm.COLOCATION,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PROVINCE_COMMAND: frozenset(_COMMAND),
    Role.CITY_COMMAND: frozenset(_COMMAND),
    Role.COUNTY_COMMAND: frozenset(_COMMAND),
    Role.CDC: frozenset(
        {
            Perm.DECLARATIONS_VIEW,
            Perm.DECLARATIONS_EDIT,
            Perm.TIPS_VIEW,
            Perm.TIPS_REPORTER,
            Perm.RISK_EDIT,
            Perm.RULES_PUBLISH,
            Perm.TASKS_VIEW,
            Perm.TASKS_DO,
            Perm.TESTING_VIEW,
            Perm.TESTING_MANAGE,
            Perm.SEQUENCING,
            Perm.HEALTHCODE_VIEW,
            Perm.HEALTHCODE_REVIEW,
            Perm.REGIONS_VIEW,
            Perm.PEOPLE_VIEW,
            Perm.PEOPLE_EDIT,
            Perm.PEOPLE_REVEAL,
            Perm.PEOPLE_MERGE,
            Perm.UNITS_VIEW,
            Perm.TOKENS_OWN,
            Perm.VENUES_VIEW,
            Perm.TRAJECTORY,
            Perm.COLOCATION,
        }
    ),
    Role.GRID_WORKER: frozenset(
        {
            Perm.REGIONS_VIEW,
            Perm.PEOPLE_VIEW,
            Perm.PEOPLE_EDIT,
            Perm.PEOPLE_REVEAL,
            Perm.UNITS_VIEW,
            Perm.DECLARATIONS_VIEW,
            Perm.DECLARATIONS_EDIT,
            Perm.VERIFY,
            Perm.TASKS_VIEW,
            Perm.TASKS_DO,
            Perm.TIPS_VIEW,
            Perm.HEALTHCODE_VIEW,
            Perm.TESTING_VIEW,
            Perm.VENUES_VIEW,
            Perm.VENUES_APPROVE,
            Perm.VENUES_ENTRY,
            Perm.TRAJECTORY,
        }
    ),
    Role.UNIT_MANAGER: frozenset(
        {
            Perm.PEOPLE_VIEW,
            Perm.PEOPLE_EDIT,
            Perm.PEOPLE_REVEAL,
            Perm.UNITS_VIEW,
            Perm.ROSTER_EDIT,
            Perm.DECLARATIONS_VIEW,
            Perm.DECLARATIONS_EDIT,
            Perm.VERIFY,
            Perm.TASKS_VIEW,
            Perm.TASKS_DO,
            Perm.HEALTHCODE_VIEW,
            Perm.VENUES_VIEW,
            Perm.VENUES_REGISTER,
            Perm.VENUES_ENTRY,
        }
    ),
    Role.DATA_TEAM: frozenset(
        {Perm.REGIONS_VIEW, Perm.PUSHED_LISTS, Perm.DECLARATIONS_VIEW, Perm.TOKENS_OWN}
    ),
    Role.SAMPLING: frozenset(
        {Perm.REGIONS_VIEW, Perm.PEOPLE_VIEW, Perm.TOKENS_OWN, Perm.TESTING_VIEW, Perm.SAMPLING_DO}
    ),
    Role.LAB: frozenset(
        {Perm.REGIONS_VIEW, Perm.TOKENS_OWN, Perm.TESTING_VIEW, Perm.LAB_RESULTS, Perm.SEQUENCING}
    ),
    # venue and checkpoint staff record where they are posted (venue staff, shifts) and see a
    # colour and a masked name, never an ID number
    Role.CHECKPOINT: frozenset(
        {Perm.REGIONS_VIEW, Perm.TOKENS_OWN, Perm.HEALTHCODE_SCAN, Perm.CHECKPOINT_RECORD}
    ),
    # 测温、扫码、查轨迹 at triage (JX57-3.5)
    Role.MEDICAL: frozenset({Perm.REGIONS_VIEW, Perm.TOKENS_OWN, Perm.HEALTHCODE_SCAN, Perm.TRAJECTORY}),
    Role.AUDITOR: frozenset({Perm.REGIONS_VIEW, Perm.AUDIT_VIEW}),
    Role.ADMIN: frozenset(
        {
            Perm.REGIONS_VIEW,
            Perm.REGIONS_EDIT,
            Perm.USERS_MANAGE,
            Perm.TOKENS_OWN,
            Perm.UNITS_VIEW,
            Perm.HEALTHCODE_KEYS,
            Perm.TESTING_MANAGE,
        }
    ),
}


def permissions_of(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())
