"""The audit log in words: object types, field names and the codes a note carries, each shown
as its label in the page's language (the stored row keeps the codes, which is what a query or
an export of the log needs).

A field's label is the verbose name its model gives it; the fields that are not model fields
(`decision`, `scope`, `keys`, ...) are named here. A note is free text written by the service
that recorded the event; the codes inside it (a reassessment's cause, a check's outcome, a
task's kind) are replaced by their labels and the rest is left as written.
"""

import re
from functools import cache

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# object_type → (app label, model), for the verbose names of the model and of its fields
_MODELS = {
    "api_token": ("accounts", "ApiToken"),
    "bulk_run": ("rules", "BulkRun"),
    "dcc_signer": ("testing", "TrustedSigner"),
    "declaration": ("declarations", "Declaration"),
    "division": ("regions", "Division"),
    "health_code": ("healthcode", "HealthCode"),
    "healthcode_correction": ("healthcode", "CorrectionRequest"),
    "healthcode_key": ("healthcode", "SigningKey"),
    "healthcode_trust": ("healthcode", "TrustedKey"),
    "lab_member": ("testing", "LabMember"),
    "must_test_group": ("testing", "MustTestGroup"),
    "person": ("people", "Person"),
    "person_rules": ("rules", "PersonRuleState"),
    "pool": ("testing", "Pool"),
    "private_link": ("people", "PrivateLink"),
    "pushed_list": ("declarations", "PushedList"),
    "result_import": ("testing", "ResultImport"),
    "risk_area": ("regions", "RiskArea"),
    "roster_entry": ("units", "RosterEntry"),
    "sampling_point": ("testing", "SamplingPoint"),
    "scope_grant": ("accounts", "ScopeGrant"),
    "sequencing": ("testing", "SequencingRequest"),
    "specimen": ("testing", "Specimen"),
    "task": ("tasks", "Task"),
    "test_order": ("testing", "TestOrder"),
    "test_result": ("testing", "TestResult"),
    "tip": ("declarations", "Tip"),
    "unit": ("units", "Unit"),
    "unit_group": ("units", "UnitGroup"),
    "user": ("accounts", "User"),
    "venue": ("venues", "Venue"),
    "checkpoint": ("venues", "Checkpoint"),
    "checkpoint_shift": ("venues", "CheckpointShift"),
    "vehicle_pass": ("venues", "VehiclePass"),
    "venue_entry": ("venues", "Entry"),
    "reservation": ("venues", "Reservation"),
    "retention_run": ("venues", "RetentionRun"),
    "contact_candidates": ("venues", "ContactCandidate"),
    "verification_task": ("declarations", "VerificationTask"),
}

OBJECT_TYPE_LABELS = {
    "api_token": _("API token"),
    "bulk_run": _("bulk reassessment"),
    "dcc_signer": _("EU certificate signer"),
    "declaration": _("declaration"),
    "division": _("division"),
    "health_code": _("health code"),
    "health_code_token": _("health code token"),
    "healthcode_correction": _("correction request"),
    "healthcode_key": _("health code signing key"),
    "healthcode_trust": _("trusted issuer"),
    "lab_member": _("lab member"),
    "must_test_group": _("must-test group"),
    "person": _("person"),
    "person_rules": _("measures and health code"),
    "pool": _("pool"),
    "private_link": _("private status link"),
    "pushed_list": _("pushed list"),
    "result_import": _("lab result upload"),
    "risk_area": _("risk area"),
    "roster_entry": _("roster entry"),
    "sampling_point": _("sampling point"),
    "scope_grant": _("scope grant"),
    "sequencing": _("sequencing request"),
    "specimen": _("specimen"),
    "task": _("task"),
    "test_order": _("test order"),
    "test_result": _("test result"),
    "tip": _("tip"),
    "unit": _("unit"),
    "unit_group": _("class or team"),
    "user": _("user"),
    "venue": _("venue"),
    "checkpoint": _("checkpoint"),
    "checkpoint_shift": _("checkpoint shift"),
    "vehicle_pass": _("vehicle check"),
    "venue_entry": _("venue entry"),
    "reservation": _("reservation"),
    "retention_run": _("deletion of old scan records"),
    "contact_candidates": _("contact candidates"),
    "verification_task": _("check on the ground"),
}

# fields recorded that are not fields of the object's model
FIELD_LABELS = {
    "assignee": _("assignee"),
    "trajectory": _("trajectory"),
    "colocation": _("co-location search"),
    "code_id": _("code"),
    "colour": _("health-code colour"),
    "contact": _("contact"),
    "decision": _("decision"),
    "feedback": _("feedback"),
    "file": _("file"),
    "id_number": _("document number"),
    "keys": _("keys"),
    "measures": _("measures"),
    "not_after": _("valid until"),
    "not_before": _("valid from"),
    "person": _("person"),
    "phone": _("phone"),
    "private_key": _("private key"),
    "public_key": _("public key"),
    "reporter": _("reporter"),
    "rows": _("rows"),
    "scope": _("scope"),
    "stops": _("travel history"),
    "lab": _("lab"),
    "user": _("user"),
    "group": _("class or team"),
    "unit": _("unit"),
    "pool": _("pool"),
    "scope_prefixes": _("divisions"),
    "token": _("token"),
    "verification_tasks": _("checks on the ground"),
    "entries": _("entries"),
    "vehicles": _("vehicles"),
    "occupants": _("people checked"),
    "checkpoint_passes": _("checkpoint passes"),
    "staff": _("staff"),
}


# task kinds (tasks are opened by several apps, each with its own kind)
TASK_KIND_LABELS = {
    "measure_test": _("test task"),
    "measure_quarantine": _("isolation task"),
    "measure_health_monitoring": _("health monitoring task"),
    "measure_closed_loop": _("closed-loop management task"),
    "measure_restriction": _("restriction task"),
    "measure_advance_report": _("advance report task"),
    "measure_grid_management": _("grid management task"),
    "measure_follow_up": _("follow-up task"),
    "measure_exempt": _("exemption task"),
    "verification": _("check on the ground"),
    "departure_return": _("return from a trip"),
    "expected_arrival": _("expected arrival"),
    "positive_pool": _("positive pool"),
    "pool_retest": _("pool retest"),
    "positive_result": _("positive result"),
    "positive_result_contact": _("contacts of a positive result"),
    "venue_alert": _("report from a venue or checkpoint"),
    "transfer_request": _("transfer to centralized isolation"),
}


# the fixed notes services write (the others carry figures and stay as written)
NOTE_LABELS = {
    "committed": _("committed"),
    "approved": _("approved"),
    "returned": _("returned"),
    "confirmed on verification": _("confirmed on verification"),
    "created": _("created"),
    "demo login": _("demo login"),
    "first key": _("first key"),
    "no usable key left": _("no usable key left"),
    "from a decision": _("from a decision"),
    "measure closed": _("measure closed"),
    "revoked": _("revoked"),
    "rotation": _("rotation"),
    "source no longer applies": _("source no longer applies"),
    "walk-in": _("walk-in"),
    "registered with a host unit's declaration": _("registered with a host unit's declaration"),
}


@cache
def _note_codes() -> dict[str, object]:
    """The codes services write into notes, with their labels (built once; the apps are loaded
    by the time an audit page is shown)."""
    from epigrid.declarations.models import Channel, Kind, Outcome, VerificationKind
    from epigrid.healthcode.models import CorrectionStatus
    from epigrid.rules.models import CAUSE_LABELS, BulkRun
    from epigrid.testing.models import ResultSource

    codes: dict[str, object] = dict(TASK_KIND_LABELS)
    for choices in (Outcome, CorrectionStatus, BulkRun.Kind, ResultSource, Kind, Channel, VerificationKind):
        codes.update(dict(choices.choices))
    codes.update(CAUSE_LABELS)
    return codes


def object_type_label(object_type: str) -> str:
    label = OBJECT_TYPE_LABELS.get(object_type)
    return str(label) if label is not None else object_type


def field_label(object_type: str, name: str) -> str:
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    if object_type in _MODELS:
        model = apps.get_model(*_MODELS[object_type])
        try:
            verbose = model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:  # a name that is no field of the model keeps its code
            return name
        # Django derives an untranslated name from the attribute when none is given
        return str(verbose) if isinstance(verbose, Promise) else name
    return name


def fields_text(object_type: str, names) -> str:
    separator = ", " if (get_language() or "").startswith("en") else "、"
    return separator.join(field_label(object_type, name) for name in names)


_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
# a declaration's note: its kind and the channel it came by
_VIA = re.compile(r"^([a-z_]+) via ([a-z_]+)$")


def note_label(note: str) -> str:
    """A note with its codes in words: `risk_change` → 风险地区变更, `preview risk_change` →
    预演 风险地区变更; free text around them stays as written."""
    if note in NOTE_LABELS:
        return str(NOTE_LABELS[note])
    codes = _note_codes()
    words = note.split(" ")
    if note and all(w in codes for w in words):
        return " ".join(str(codes[w]) for w in words)
    via = _VIA.match(note)
    if via and via.group(1) in codes and via.group(2) in codes:
        return f"{codes[via.group(1)]} · {codes[via.group(2)]}"
    return _CODE.sub(lambda m: str(codes.get(m.group(0), m.group(0))), note)
