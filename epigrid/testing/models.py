"""Sampling and testing (采样检测, R6): sampling points, must-test groups, test orders, specimens,
pools, results from our labs and from elsewhere, turnaround aggregates and sequencing.

Every region-scoped row carries `division_code`: the person's division for orders, specimens,
results and sequencing (so a grid worker sees the tests of their grid), the point's division for
sampling points and pools. Labs and sampling units reach their own rows through `unit_q`.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.scoping import ScopeSpec
from epigrid.lib import jobs
from epigrid.testing.choices import (
    Analyte,
    GroupName,
    ImportStatus,
    OrderSource,
    OrderStatus,
    Outcome,
    PointKind,
    PoolStatus,
    ResultSource,
    SampleType,
    SequencingStatus,
    SpecimenStatus,
    TestKind,
)

# which results answer an order of each kind
ANALYTES_OF = {
    TestKind.NUCLEIC_ACID: (Analyte.NUCLEIC_ACID,),
    TestKind.SEROLOGY: (Analyte.SEROLOGY_IGM, Analyte.SEROLOGY_IGG),
}


# --- sampling points ----------------------------------------------------------------------


def _point_unit_q(unit_ids: list) -> Q:
    return Q(unit_id__in=unit_ids)


class SamplingPoint(models.Model):
    """采样点 (R6.1, JS79-7, JS79-8): where specimens are taken, published to the public with its
    unit, address, contact and phone. `waiting_place` is where people wait for their result
    (JS79-14), shown on their status page."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=PointKind.choices)
    name = models.CharField(_("name"), max_length=128)
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="sampling_points"
    )
    address = models.CharField(_("address"), max_length=255)
    division_code = models.CharField(_("division"), max_length=15)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    # the point's public service number, published as the documents require (not a person's phone)
    phone = models.CharField(_("phone"), max_length=24, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=128, blank=True)
    active_from = models.DateField(_("open from"))
    active_to = models.DateField(_("open until"), null=True, blank=True)
    waiting_place = models.CharField(_("where to wait for the result"), max_length=255, blank=True)
    lab = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lab its specimens go to"),
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    scope = ScopeSpec(division_field="division_code", unit_q=_point_unit_q)

    class Meta:
        verbose_name = _("sampling point")
        verbose_name_plural = _("sampling points")
        indexes = [
            models.Index(fields=["division_code", "name"], name="point_division_name"),
            models.Index(fields=["active_from", "active_to"], name="point_active"),
        ]

    def __str__(self) -> str:
        return self.name

    def open_on(self, day) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


# --- must-test groups ---------------------------------------------------------------------


WILLING = "willing"  # 愿检尽检: anyone who asks


class MustTestGroup(models.Model):
    """A must-test group as a jurisdiction configures it: whether the test is free, and how often
    members on a unit's roster are screened (0 = only when the rules ask)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    division_code = models.CharField(_("jurisdiction"), max_length=15)
    group = models.CharField(_("group"), max_length=32, choices=GroupName.choices)
    test = models.CharField(_("test"), max_length=16, choices=TestKind.choices, default=TestKind.NUCLEIC_ACID)
    free = models.BooleanField(_("free of charge"), default=True)
    interval_days = models.PositiveSmallIntegerField(_("screen every (days)"), default=0)
    due_hours = models.PositiveSmallIntegerField(_("result due within (hours)"), default=12)
    requirements = models.JSONField(default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("must-test group")
        verbose_name_plural = _("must-test groups")
        constraints = [
            models.UniqueConstraint(fields=["division_code", "group", "test"], name="musttest_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()} ({self.division_code})"


# --- lab staff ----------------------------------------------------------------------------


class LabMember(models.Model):
    """A lab user (or the machine user behind a lab's API token) works for one lab: results they
    send are that lab's, and they see the specimens sent to it."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="lab_membership")
    lab = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="lab_members")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.lab_id}"


# --- orders, specimens, pools --------------------------------------------------------------


PENDING_ORDER_STATES = (OrderStatus.OPEN, OrderStatus.SAMPLED, OrderStatus.RECEIVED)
_PENDING = Q(status__in=["open", "sampled", "received"])


def _lab_or_point_unit_q(unit_ids: list) -> Q:
    """Orders, specimens and pools: the lab's own, and those of the unit's sampling points."""
    return Q(lab_id__in=unit_ids) | Q(sampling_point__unit_id__in=unit_ids)


class TestOrder(models.Model):
    """A test a person must (or asked to) take, with the time its result is due (R6.2, R6.3:
    12 hours by default). Turnaround is read from sampled, received and resulted times."""

    __test__ = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="test_orders", db_index=False
    )
    division_code = models.CharField(_("division"), max_length=15)
    test = models.CharField(_("test"), max_length=16, choices=TestKind.choices)
    source = models.CharField(_("source"), max_length=12, choices=OrderSource.choices)
    # the rules' measure behind it, or the must-test group / "willing"
    measure = models.ForeignKey(
        "rules.MeasureRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="test_orders",
        db_index=False,
    )
    group = models.CharField(_("group"), max_length=32, blank=True)
    reason_zh = models.TextField(blank=True)
    reason_en = models.TextField(blank=True)
    requirements = models.JSONField(default=list, blank=True)
    free = models.BooleanField(_("free of charge"), default=False)
    ordered_at = models.DateTimeField(_("ordered"))
    due_at = models.DateTimeField(_("result due"))
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    specimen = models.ForeignKey(
        "Specimen", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    sampling_point = models.ForeignKey(
        SamplingPoint, on_delete=models.PROTECT, null=True, blank=True, related_name="orders", db_index=False
    )
    lab = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    sampled_at = models.DateTimeField(pgettext_lazy("time", "sampled"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    resulted_at = models.DateTimeField(pgettext_lazy("time", "resulted"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Outcome.choices, blank=True)
    # for retests: the positive pool that asked for it
    pool = models.ForeignKey(
        "Pool", on_delete=models.PROTECT, null=True, blank=True, related_name="retests", db_index=False
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_lab_or_point_unit_q)

    class Meta:
        verbose_name = _("test order")
        verbose_name_plural = _("test orders")
        # The due-time indexes hold pending orders only: a resulted order leaves them, so a
        # million results do not rewrite them (PostgreSQL skips partial indexes whose predicate
        # the new row version fails).
        indexes = [
            models.Index(fields=["person", "status"], name="order_person_status"),
            models.Index(fields=["division_code", "due_at"], name="order_division_due", condition=_PENDING),
            models.Index(fields=["lab", "due_at"], name="order_lab_due", condition=_PENDING),
            models.Index(fields=["sampling_point", "due_at"], name="order_point_due", condition=_PENDING),
            models.Index(fields=["measure"], name="order_measure", condition=Q(measure__isnull=False)),
            models.Index(fields=["pool"], name="order_pool", condition=Q(pool__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.test} {self.person_id} {self.status}"

    def reason(self, language: str) -> str:
        return self.reason_zh if (language or "zh").startswith("zh") else self.reason_en


class Specimen(models.Model):
    """One tube taken from one person at a sampling point, with its barcode; optionally poured
    into a pool (混检). `result` is the person's individual result once known."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    barcode = models.CharField(_("barcode"), max_length=40, unique=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="specimens", db_index=False
    )
    division_code = models.CharField(_("division"), max_length=15)
    sample_type = models.CharField(_("sample"), max_length=8, choices=SampleType.choices)
    sampling_point = models.ForeignKey(
        SamplingPoint, on_delete=models.PROTECT, related_name="specimens", db_index=False
    )
    pool = models.ForeignKey(
        "Pool", on_delete=models.PROTECT, null=True, blank=True, related_name="specimens"
    )
    lab = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    taken_at = models.DateTimeField(pgettext_lazy("time", "taken"))
    taken_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=14, choices=SpecimenStatus.choices, default=SpecimenStatus.TAKEN
    )
    result = models.CharField(_("result"), max_length=10, choices=Outcome.choices, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_lab_or_point_unit_q)

    class Meta:
        verbose_name = _("specimen")
        verbose_name_plural = _("specimens")
        indexes = [
            models.Index(fields=["person", "taken_at"], name="specimen_person"),
            models.Index(fields=["sampling_point", "taken_at"], name="specimen_point"),
        ]

    def __str__(self) -> str:
        return self.barcode


POOL_SIZES = (5, 10, 20)


class Pool(models.Model):
    """混检 (R6.3): 5, 10 or 20 swabs in one tube with its own barcode. A negative pool makes
    every member negative; a positive one flags every member and orders single-tube retests."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    barcode = models.CharField(_("barcode"), max_length=40, unique=True)
    size = models.PositiveSmallIntegerField(_("size"))
    sampling_point = models.ForeignKey(
        SamplingPoint, on_delete=models.PROTECT, related_name="pools", db_index=False
    )
    division_code = models.CharField(_("division"), max_length=15)
    lab = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    status = models.CharField(_("status"), max_length=10, choices=PoolStatus.choices, default=PoolStatus.OPEN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    sealed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Outcome.choices, blank=True)
    ct_values = models.JSONField(default=dict, blank=True)
    tested_at = models.DateTimeField(null=True, blank=True)
    resulted_at = models.DateTimeField(null=True, blank=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_lab_or_point_unit_q)

    class Meta:
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        indexes = [models.Index(fields=["sampling_point", "status"], name="pool_point_status")]

    def __str__(self) -> str:
        return self.barcode


# --- results ------------------------------------------------------------------------------


def _lab_unit_q(unit_ids: list) -> Q:
    return Q(lab_id__in=unit_ids)


class TestResult(models.Model):
    """One analyte's result for one person: from our labs (on a specimen, or on the person's
    specimen through a negative pool), from another region, or from a foreign certificate
    (R3.4, NA182-2.3). Results are facts for the rules (`rules.facts.TestResult`)."""

    __test__ = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="test_results", db_index=False
    )
    division_code = models.CharField(_("division"), max_length=15)
    analyte = models.CharField(_("test"), max_length=16, choices=Analyte.choices)
    result = models.CharField(_("result"), max_length=10, choices=Outcome.choices)
    sampled_at = models.DateTimeField(pgettext_lazy("time", "sampled"))
    tested_at = models.DateTimeField(_("tested"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"))
    ct_values = models.JSONField(default=dict, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=ResultSource.choices)
    # our lab's name, the issuing region's division prefix, or the certificate's issuer
    issuer = models.CharField(pgettext_lazy("result", "issued by"), max_length=128, blank=True)
    lab = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    specimen = models.ForeignKey(
        Specimen, on_delete=models.PROTECT, null=True, blank=True, related_name="results", db_index=False
    )
    # set when the result came from a negative pool rather than the person's own tube
    pool = models.ForeignKey(
        Pool, on_delete=models.PROTECT, null=True, blank=True, related_name="results", db_index=False
    )
    # the certificate id or the other region's reference; unique per source
    external_ref = models.CharField(_("reference"), max_length=128, blank=True)
    details = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    scope = ScopeSpec(division_field="division_code", unit_q=_lab_unit_q)

    class Meta:
        verbose_name = _("test result")
        verbose_name_plural = _("test results")
        indexes = [
            models.Index(fields=["person", "sampled_at"], name="result_person"),
            models.Index(fields=["division_code", "reported_at"], name="result_division_time"),
        ]
        constraints = [
            # a tube has one result per analyte: a file sent twice adds nothing the second time
            models.UniqueConstraint(
                fields=["specimen", "analyte"], condition=Q(specimen__isnull=False), name="result_once"
            ),
            models.UniqueConstraint(
                fields=["source", "external_ref"], condition=~Q(external_ref=""), name="result_external_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyte} {self.result} {self.person_id}"


class ResultImport(models.Model):
    """A results file in two phases (like rapidpro's imports): checked row by row first, with
    row-numbered errors and nothing changed, then committed in batches that record their counts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lab = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField(max_length=15)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=ImportStatus.choices)
    rows = models.JSONField(default=list)  # the parsed rows, as checked
    errors = models.JSONField(default=list)  # [{"row", "column", "code", "message"}]
    total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # per commit: new, unchanged, persons reassessed, …
    batches = models.JSONField(default=list)  # one {"rows", "new", "unchanged", "seconds"} per batch
    created_at = models.DateTimeField()
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    committed_at = models.DateTimeField(null=True, blank=True)
    # the commit as a job that resumes (issue 10.7): rows written so far in file order, rows
    # whose people were reassessed, the last sign of life and who holds the job
    rows_done = models.PositiveIntegerField(default=0)
    reassessed_rows = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=64, blank=True)
    committed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    scope = ScopeSpec(division_field="division_code", unit_q=lambda ids: Q(lab_id__in=ids))

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def stalled(self) -> bool:
        """Committing, but its worker stopped sending heartbeats (it died): it can be resumed."""
        return self.status == ImportStatus.COMMITTING and jobs.is_stale(self.heartbeat_at)


class TurnaroundDay(models.Model):
    """Daily aggregate of resulted orders (XC-3.3, NA182-2.5: results within 12 hours): on time
    and late per lab and per sampling point's county. The chart reads these, never raw orders."""

    day = models.DateField()
    lab = models.ForeignKey("units.Unit", on_delete=models.PROTECT, null=True, related_name="+")
    division_code = models.CharField(max_length=15)
    on_time = models.PositiveIntegerField(default=0)
    late = models.PositiveIntegerField(default=0)

    scope = ScopeSpec(division_field="division_code", unit_q=lambda ids: Q(lab_id__in=ids))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "lab", "division_code"], name="turnaround_unique"),
        ]
        indexes = [models.Index(fields=["division_code", "day"], name="turnaround_division_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.division_code}: {self.on_time} on time, {self.late} late"


# --- sequencing ---------------------------------------------------------------------------


class SequencingRequest(models.Model):
    """基因测序 (R6.5, NA182-2.5.2): a case specimen sent for whole-genome sequencing, tracked to
    the lab and to the lineage it found."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="sequencing")
    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="sequencing")
    division_code = models.CharField(max_length=15)
    lab = models.ForeignKey("units.Unit", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=SequencingStatus.choices, default=SequencingStatus.REQUESTED
    )
    requested_at = models.DateTimeField(pgettext_lazy("time", "requested"))
    requested_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    resulted_at = models.DateTimeField(pgettext_lazy("time", "resulted"), null=True, blank=True)
    lineage = models.CharField(_("lineage"), max_length=64, blank=True)
    clade = models.CharField(_("clade"), max_length=32, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_lab_unit_q)

    class Meta:
        verbose_name = _("sequencing request")
        verbose_name_plural = _("sequencing requests")
        constraints = [
            models.UniqueConstraint(
                fields=["specimen"], condition=~Q(status="failed"), name="sequencing_one_per_specimen"
            )
        ]

    def __str__(self) -> str:
        return f"{self.specimen_id} {self.status}"


# --- the DCC trust list -------------------------------------------------------------------


class TrustedSigner(models.Model):
    """A document signer certificate whose EU DCC signatures we accept (R3.4). Next to these rows,
    the files named in EPIGRID_DCC_TRUST_FILES are read (see docs/testing.md)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kid = models.CharField(max_length=16)  # hex of the 8-byte key id
    der = models.BinaryField()
    subject = models.CharField(max_length=255)
    not_after = models.DateTimeField()
    active = models.BooleanField(default=True)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kid"], name="trusted_signer_kid")]

    def __str__(self) -> str:
        return self.subject
