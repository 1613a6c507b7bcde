"""Arrivals and departures (报备), pushed lists (大数据推送), tips (线索) and the verification on
the ground (落地核查) that closes the loop for the last two (R2.1–R2.5).

Identifiers in pushed rows and tips are stored like `people.Person` stores them: AES-GCM
ciphertext, an HMAC blind index in the same index space as persons (so a row matches a person by
an equality on an indexed column), and a masked form for display.
"""

import json
import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.scoping import ScopeSpec
from epigrid.lib import jobs


class Kind(models.TextChoices):
    ARRIVAL = "arrival", _("arrival")
    DEPARTURE = "departure", _("departure")


class Channel(models.TextChoices):
    PUBLIC = "public", _("self-declared on the public page")
    STAFF = "staff", _("entered by staff")
    API = "api", _("API")
    VERIFICATION = "verification", _("recorded on verification")


class DeclarationStatus(models.TextChoices):
    DECLARED = "declared", _("declared")
    # the details given differ from the registry's for this document number, or staff declared
    # for a person outside their scope: the declaration is kept but counts for nothing until the
    # community has checked it
    UNCONFIRMED = "unconfirmed", _("awaiting verification")
    CONFIRMED = "confirmed", _("confirmed on the ground")
    WITHDRAWN = "withdrawn", _("withdrawn")


# the statuses whose facts the rules see
COUNTED_STATUSES = (DeclarationStatus.DECLARED, DeclarationStatus.CONFIRMED)


class Transport(models.TextChoices):
    FLIGHT = "flight", _("flight")
    TRAIN = "train", _("train")
    COACH = "coach", _("coach")
    CAR = "car", _("car")
    SHIP = "ship", _("ship")
    OTHER = "other", _("other")


class Purpose(models.TextChoices):
    RETURN_HOME = "return_home", _("returning home")
    WORK = "work", _("work")
    STUDY = "study", _("study")
    BUSINESS_VISIT = "business_visit", _("business visit")
    OFFICIAL_VISIT = "official_visit", _("official visit")
    FAMILY_VISIT = "family_visit", _("visiting family")
    TOURISM = "tourism", _("tourism")
    TRANSIT = "transit", _("transit")
    OTHER = "other", _("other")


class CodeColour(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


def _declaration_unit_q(unit_ids: list) -> Q:
    # a unit manager reaches the declarations of the people on their rosters and of the visitors
    # their unit hosts (JS79-13)
    return Q(host_unit_id__in=unit_ids) | Q(
        person__roster_entries__unit_id__in=unit_ids, person__roster_entries__ended_on__isnull=True
    )


class Declaration(models.Model):
    """报备: one arrival or departure of one person (R2.1–R2.3).

    An arrival is scoped by its destination (`division_code`, the grid cell or community where
    the person stays); a departure by the person's residence. Places are GB/T 2260 codes of any
    level up to a community, or ISO 3166 alpha-2 codes for places abroad."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=DeclarationStatus.choices, default=DeclarationStatus.DECLARED
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="declarations")
    # the name given with the declaration: what staff who may not see the person's record are
    # shown (the record's own name is theirs to see only when the person is in their scope)
    declared_name = models.CharField(_("name as declared"), max_length=64, blank=True)
    division_code = models.CharField(_("division"), max_length=15)
    address = models.CharField(_("address"), max_length=255, blank=True)

    # arrival (R2.1)
    arrived_at = models.DateTimeField(_("arrival time"), null=True, blank=True)
    origin = models.CharField(_("origin"), max_length=12, blank=True)
    transport = models.CharField(_("transport"), max_length=8, choices=Transport.choices, blank=True)
    transport_number = models.CharField(_("flight, train or plate"), max_length=32, blank=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices, blank=True)
    declared_stay_days = models.PositiveSmallIntegerField(_("days of stay"), null=True, blank=True)
    # JS79-13: a business visit of at most 3 days hosted point to point by a unit is exempt; only
    # the host unit's own declaration sets `point_to_point_hosting`
    host_unit_id = models.UUIDField(_("host unit"), null=True, blank=True, db_index=True)
    host_name = models.CharField(_("host"), max_length=128, blank=True)
    point_to_point_hosting = models.BooleanField(_("point-to-point hosting"), default=False)
    # overseas arrivals (JX57-2.1, JX57-2.2, XC-2.1)
    from_abroad = models.BooleanField(_("from abroad"), default=False)
    entered_country_at = models.DateTimeField(_("entered the country"), null=True, blank=True)
    entry_port = models.CharField(_("first entry point"), max_length=12, blank=True)
    isolated_at_first_entry = models.BooleanField(
        _("isolated at the first entry point"), null=True, blank=True
    )
    # health status on arrival, and the code held from another issuer (JX57-2.3)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1, null=True, blank=True)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    health_code_colour = models.CharField(
        _("health code held"), max_length=8, choices=CodeColour.choices, blank=True
    )
    health_code_issuer = models.CharField(_("issued by"), max_length=12, blank=True)

    # departure for a business trip (JX57-3.12); the return is an arrival pointing back here
    departs_at = models.DateTimeField(_("departure time"), null=True, blank=True)
    travel_to = models.CharField(_("going to"), max_length=12, blank=True)
    expected_return_on = models.DateField(_("expected return"), null=True, blank=True)
    return_of = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="return_arrival"
    )

    declared_at = models.DateTimeField(pgettext_lazy("time", "declared"))
    declared_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(_("reason"), max_length=200, blank=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_declaration_unit_q)

    class Meta:
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        indexes = [
            models.Index(fields=["division_code", "declared_at", "id"], name="declaration_division_list"),
            models.Index(fields=["declared_at", "id"], name="declaration_list"),
            models.Index(fields=["person", "kind", "status"], name="declaration_person"),
        ]
        constraints = [
            models.CheckConstraint(
                name="declaration_kind_time",
                condition=(
                    Q(kind="arrival", arrived_at__isnull=False)
                    | Q(kind="departure", departs_at__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id}"

    @property
    def counted(self) -> bool:
        return self.status in COUNTED_STATUSES

    def name_shown(self, person_visible: bool) -> str:
        """The person's name for a viewer: the record's to those who may see the person, else the
        name as declared (never the record's name of a document number someone typed)."""
        return self.person.name if person_visible else self.declared_name

    @property
    def in_advance(self) -> bool:
        """Declared before the arrival (提前报备, XC-2.1)."""
        return (
            self.kind == Kind.ARRIVAL and self.arrived_at is not None and self.declared_at < self.arrived_at
        )


class TravelStop(models.Model):
    """旅居史: a place stayed in during the 14 days before an arrival, first to last day (both
    included). The declared origin is always one of them (`from_origin`). `person` is copied from
    the declaration so "who stayed in this area" is one indexed range query."""

    declaration = models.ForeignKey(Declaration, on_delete=models.PROTECT, related_name="stops")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="travel_stops")
    area = models.CharField(_("place"), max_length=12)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    from_origin = models.BooleanField(default=False)
    ordinal = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("travel stop")
        verbose_name_plural = _("travel history")
        ordering = ["declaration", "ordinal"]
        indexes = [models.Index(fields=["area", "end"], name="travelstop_area")]

    def __str__(self) -> str:
        return f"{self.area} {self.start}–{self.end or ''}"


# --- pushed lists (R2.4) ------------------------------------------------------------------------


class ListSource(models.TextChoices):
    TELECOM = "telecom", _("telecom operator")
    TRANSPORT = "transport", _("transport (rail, air, road)")
    OTHER = "other", _("other source")


class ListStatus(models.TextChoices):
    VALIDATING = "validating", _("validating")
    # the file itself could not be used (unreadable, required columns missing): nothing stored
    REJECTED = "rejected", _("rejected")
    VALIDATED = "validated", _("validated")
    QUEUED = "queued", _("queued for commit")
    COMMITTING = "committing", _("committing")
    COMMITTED = "committed", _("committed")
    FAILED = "failed", _("commit interrupted")


class PushedList(models.Model):
    """大数据推送: a list from the data team (telecom, transport). Validated and previewed first,
    then committed in batches by a background task; every batch lands whole or not at all, and
    its rows carry their committed state so a rerun after a crash creates nothing twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=128)
    source = models.CharField(_("source"), max_length=12, choices=ListSource.choices)
    file_name = models.CharField(_("file"), max_length=255)
    file_kind = models.CharField(max_length=8)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    division_code = models.CharField(_("area"), max_length=15)
    status = models.CharField(
        _("status"), max_length=12, choices=ListStatus.choices, default=ListStatus.VALIDATING
    )
    header_map = models.JSONField(default=dict)  # field → the header text found in the file
    ignored_columns = models.JSONField(default=list)
    file_errors = models.JSONField(default=list)  # [{row, column, code, message}]
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    matched_by_id = models.PositiveIntegerField(default=0)
    matched_by_phone = models.PositiveIntegerField(default=0)
    routing = models.JSONField(default=dict)  # {"division_code": n, "address": n, ...}
    skip_invalid = models.BooleanField(default=False)
    due_hours = models.PositiveSmallIntegerField(default=24)
    batch_size = models.PositiveIntegerField(default=5000)
    batches_total = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    committed_rows = models.PositiveIntegerField(default=0)
    reassessed = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(_("received"))
    uploaded_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    queued_at = models.DateTimeField(null=True, blank=True)
    queued_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    commit_started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("pushed list")
        verbose_name_plural = _("pushed lists")
        indexes = [models.Index(fields=["division_code", "received_at", "id"], name="pushedlist_division")]

    def __str__(self) -> str:
        return self.name

    @property
    def percent(self) -> int:
        if self.status == ListStatus.COMMITTED:
            return 100
        if not self.batches_total:
            return 0
        return min(99, int(self.batches_done * 100 / self.batches_total))

    @property
    def committable(self) -> bool:
        return self.status in (ListStatus.VALIDATED, ListStatus.FAILED) and self.valid_rows > 0

    @property
    def stalled(self) -> bool:
        """Committing, but its worker stopped sending heartbeats (it died): it can be resumed."""
        return self.status == ListStatus.COMMITTING and jobs.is_stale(self.heartbeat_at)

    @property
    def finished(self) -> bool:
        return self.status in (ListStatus.COMMITTED, ListStatus.REJECTED)


class RowState(models.TextChoices):
    INVALID = "invalid", _("invalid")
    VALID = "valid", _("valid, not committed")
    COMMITTED = "committed", _("committed")


class MatchKind(models.TextChoices):
    NONE = "", _("not matched")
    ID = "id", _("document number")
    PHONE_NAME = "phone_name", _("phone and name")


class RoutedBy(models.TextChoices):
    DIVISION_CODE = "division_code", _("division code in the list")
    ADDRESS = "address", _("address")
    PERSON = "person", _("registered residence")
    LIST_AREA = "list_area", _("the list's area command")


class PushedRow(models.Model):
    """One row of a pushed list, as validated, with its matched person and where it is routed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # the composite indexes below start with the list: no index of its own (fewer to maintain on
    # a 100,000-row insert)
    pushed_list = models.ForeignKey(PushedList, on_delete=models.PROTECT, related_name="rows", db_index=False)
    row_number = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=RowState.choices)
    # JSON text of [{column, code, message}], "" for a valid row (see `issues`): serialised once
    # by the importer instead of per row by the ORM
    errors = models.TextField(blank=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=64, blank=True)
    doc_type = models.CharField(max_length=24, blank=True)
    id_number_enc = models.BinaryField(null=True, blank=True)
    id_number_bidx = models.CharField(max_length=32, blank=True)  # matched against Person's index
    id_number_masked = models.CharField(_("document number"), max_length=32, blank=True)
    phone_enc = models.BinaryField(null=True, blank=True)
    phone_bidx = models.CharField(max_length=32, blank=True)
    phone_masked = models.CharField(_("phone"), max_length=24, blank=True)
    origin = models.CharField(_("origin"), max_length=12, blank=True)
    arrived_at = models.DateTimeField(_("arrival time"), null=True, blank=True)
    transport = models.CharField(_("transport"), max_length=8, blank=True)
    transport_number = models.CharField(max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    division_code = models.CharField(_("routed to"), max_length=15, blank=True)
    unit_id = models.UUIDField(null=True, blank=True)
    routed_by = models.CharField(max_length=16, choices=RoutedBy.choices, blank=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="pushed_rows"
    )
    match = models.CharField(max_length=12, choices=MatchKind.choices, blank=True)
    batch = models.PositiveIntegerField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    # the arrival on this row stops counting as a fact: the person left, the row was wrong, or a
    # confirmed declaration made on verification replaced it
    excluded_from_facts = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["pushed_list", "state", "row_number"], name="pushedrow_commit"),
            models.Index(fields=["origin"], name="pushedrow_origin"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["pushed_list", "row_number"], name="pushedrow_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.pushed_list_id} row {self.row_number}"

    @property
    def issues(self) -> list[dict]:
        return json.loads(self.errors) if self.errors else []


# --- tips (R2.5) -----------------------------------------------------------------------------


class TipStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class Tip(models.Model):
    """线索: a resident's report of an arrival that may not have been declared (R2.5, JS79-16).

    It records facts only — where, since when, from where — and the reporter's contact, which
    is encrypted and shown to no one but holders of TIPS_REPORTER, each time audited. Nothing
    about the reporter reaches the person reported, the grid worker or the lists."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("received"))
    division_code = models.CharField(_("division"), max_length=15)
    address = models.CharField(_("address"), max_length=255)
    subject_name = models.CharField(_("name, if known"), max_length=64, blank=True)
    subject_phone_enc = models.BinaryField(null=True, blank=True)
    subject_phone_bidx = models.CharField(max_length=32, blank=True)
    subject_phone_masked = models.CharField(_("phone, if known"), max_length=24, blank=True)
    arrived_on = models.DateField(_("arrived around"), null=True, blank=True)
    origin = models.CharField(_("came from"), max_length=12, blank=True)
    observed = models.TextField(_("what was observed"), blank=True)
    reporter_name_enc = models.BinaryField(null=True, blank=True)
    reporter_phone_enc = models.BinaryField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=TipStatus.choices, default=TipStatus.OPEN)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.PUBLIC)

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        indexes = [models.Index(fields=["division_code", "created_at", "id"], name="tip_division_list")]

    def __str__(self) -> str:
        return f"tip {self.pk}"

    @property
    def has_reporter_contact(self) -> bool:
        return bool(self.reporter_phone_enc or self.reporter_name_enc)


# --- verification on the ground (落地核查) ---------------------------------------------------------


class VerificationKind(models.TextChoices):
    PUSHED_ROW = "pushed_row", _("pushed list")
    TIP = "tip", _("tip")
    DECLARATION = "declaration", _("declaration to confirm")


class VerificationStatus(models.TextChoices):
    OPEN = "open", _("open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


class Outcome(models.TextChoices):
    FOUND = "found", _("found at the address")
    LEFT = "left", _("has left")
    NOT_FOUND = "not_found", _("not found")
    WRONG_INFO = "wrong_info", _("wrong information")


def _verification_unit_q(unit_ids: list) -> Q:
    return Q(unit_id__in=unit_ids)


class VerificationTask(models.Model):
    """落地核查: a grid worker (or the unit responsible) checks a pushed, tipped or unconfirmed
    arrival on the ground and records what they found. A `tasks.Task` mirrors it in the common
    work list (source `verification`), so the due-time clocks and the worker's inbox see it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=VerificationKind.choices)
    pushed_row = models.OneToOneField(
        PushedRow, on_delete=models.PROTECT, null=True, blank=True, related_name="verification"
    )
    tip = models.OneToOneField(
        Tip, on_delete=models.PROTECT, null=True, blank=True, related_name="verification"
    )
    declaration = models.ForeignKey(
        Declaration, on_delete=models.PROTECT, null=True, blank=True, related_name="verifications"
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="verification_tasks"
    )
    division_code = models.CharField(_("division"), max_length=15)
    unit_id = models.UUIDField(null=True, blank=True, db_index=True)
    assignee = models.CharField(_("for"), max_length=16)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField()
    status = models.CharField(
        _("status"), max_length=10, choices=VerificationStatus.choices, default=VerificationStatus.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    # never looked up by these two: no index to maintain on a 100,000-row commit
    verified_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    result_declaration = models.ForeignKey(
        Declaration, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )

    scope = ScopeSpec(division_field="division_code", unit_q=_verification_unit_q)

    class Meta:
        verbose_name = _("verification task")
        verbose_name_plural = _("verification tasks")
        indexes = [models.Index(fields=["division_code", "status", "due_at"], name="verification_open")]

    def __str__(self) -> str:
        return f"verification {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == VerificationStatus.OPEN
