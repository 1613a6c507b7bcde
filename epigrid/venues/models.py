"""Venues, their codes and entries; road checkpoints and their passes; contact candidates.

The entry table is the big one (a province logs millions a day): person ids only, indexed on
(venue, time) for co-location and (person, time) for trajectories, partitioned by day on
PostgreSQL (`partitions.py`; the migration makes the table partitioned, the models do not
know it). Its primary key on PostgreSQL is (id, entered_at), since a partitioned table's
unique keys must hold the partition key; ids are made on the device that recorded the entry,
so a re-sent entry carries the same id and time and is stored once.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.scoping import ScopeSpec


class VenueType(models.Model):
    """场所类型: the kinds of key places the documents name (R4.2, JX57-3.8), each with the
    time a visit is taken to last when nobody records the exit."""

    code = models.CharField(_("code"), max_length=32, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64)
    dwell_minutes = models.PositiveIntegerField(_("default visit length (minutes)"))
    # whether venues of the type take visits by reservation unless they say otherwise (XC-2.2)
    reservation_default = models.BooleanField(_("reservation by default"), default=False)
    enclosed = models.BooleanField(_("enclosed"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("venue type")

    def __str__(self) -> str:
        return self.name_zh

    def label(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


class VenueStatus(models.TextChoices):
    PENDING = "pending", _("awaiting approval")
    APPROVED = "approved", _("approved")
    RETURNED = "returned", _("returned")
    SUSPENDED = "suspended", _("suspended")


def _owned(unit_ids: list) -> Q:
    return Q(owner_unit_id__in=unit_ids)


class Venue(models.Model):
    """重点场所 (R5.1): a place that logs every entry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=128)
    type = models.ForeignKey(
        VenueType, on_delete=models.PROTECT, related_name="venues", verbose_name=_("type")
    )
    # the grid cell (or the community) the venue lies in
    division_code = models.CharField(_("division"), max_length=15)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    # 限流: the most people inside at once while a flow limit is in force (XC-2.2)
    flow_limit = models.PositiveIntegerField(_("flow limit"), null=True, blank=True)
    requires_reservation = models.BooleanField(_("reservation required"), default=False)
    slot_minutes = models.PositiveIntegerField(_("reservation slot (minutes)"), default=60)
    slot_capacity = models.PositiveIntegerField(_("people per slot"), null=True, blank=True)
    owner_unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venues",
        verbose_name=_("owner unit"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VenueStatus.choices, default=VenueStatus.PENDING
    )
    status_reason = models.CharField(_("reason"), max_length=255, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # The serial of the venue code in force; 0 until approved. Issuing a new code (a lost or
    # copied poster) raises it, and every older poster is refused.
    code_serial = models.PositiveIntegerField(default=0)
    # The longest visit ever logged here, in minutes: co-location bounds its range lookup by it.
    longest_stay_minutes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(_("registered"))
    updated_at = models.DateTimeField(_("updated"))

    scope = ScopeSpec(division_field="division_code", unit_q=_owned)

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        indexes = [
            models.Index(fields=["division_code", "name"], name="venue_division_name"),
            models.Index(fields=["status", "division_code"], name="venue_status_division"),
        ]

    def __str__(self) -> str:
        return self.name


class VenueStaff(models.Model):
    """An account that logs entries at a venue (场所工作人员)."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="venue_posts")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "user"], name="venuestaff_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.venue_id}"


class EntryMethod(models.TextChoices):
    VENUE_CODE = "venue_code", _("scanned the venue code")
    STAFF_SCAN = "staff_scan", _("staff scanned the health code")
    DOCUMENT = "document", _("document number recorded by staff")


class SeenColour(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")
    NONE = "", _("not shown")


def _entry_units(unit_ids: list) -> Q:
    return Q(venue__owner_unit_id__in=unit_ids)


class Entry(models.Model):
    """One entry into a venue (进入登记), however it was recorded: the same record for the
    three ways in (`EntryMethod`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="entries", db_index=False)
    # null only for a code another province issued: we verify it, but the person is theirs
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venue_entries",
        db_index=False,
    )
    entered_at = models.DateTimeField(_("entered"))
    exited_at = models.DateTimeField(_("left"), null=True, blank=True)
    # the exit, else the entry plus the venue type's visit length: what co-location compares
    leaves_at = models.DateTimeField(_("until"))
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1, null=True, blank=True)
    colour_seen = models.CharField(_("colour seen"), max_length=6, choices=SeenColour.choices, blank=True)
    method = models.CharField(_("how"), max_length=12, choices=EntryMethod.choices)
    admitted = models.BooleanField(_("admitted"), default=True)
    # what the entry rules asked of the staff (`gate.Action` names), with their clauses
    actions = models.JSONField(default=list, blank=True)
    issuer = models.CharField(max_length=16, blank=True)  # a foreign code's issuer
    division_code = models.CharField(max_length=15)  # the venue's, so entries scope like venues
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    device_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()

    scope = ScopeSpec(division_field="division_code", unit_q=_entry_units)

    class Meta:
        verbose_name = _("venue entry")
        verbose_name_plural = _("venue entries")
        indexes = [
            models.Index(fields=["venue", "entered_at"], name="entry_venue_time"),
            models.Index(fields=["person", "entered_at"], name="entry_person_time"),
        ]

    def __str__(self) -> str:
        return f"entry {self.pk}"


class CheckpointKind(models.TextChoices):
    EXPRESSWAY = "expressway", _("expressway exit")
    NATIONAL_ROAD = "national_road", _("national or provincial road")
    CROSS_REGION = "cross_region", _("cross-region road")
    STATION = "station", _("station")


class Checkpoint(models.Model):
    """道口 / 卡口 / 留置工作站 (R5.2, KS10-9): where every vehicle is stopped and checked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=CheckpointKind.choices)
    division_code = models.CharField(_("division"), max_length=15)
    road = models.CharField(_("road"), max_length=64, blank=True)
    direction = models.CharField(_("direction"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        indexes = [models.Index(fields=["division_code", "name"], name="checkpoint_division_name")]

    def __str__(self) -> str:
        return self.name


class CheckpointShift(models.Model):
    """A shift (班次) at a checkpoint, with the staff on it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="checkpoint_shifts", blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["checkpoint", "starts_at"], name="shift_checkpoint_start")]

    def __str__(self) -> str:
        return f"{self.checkpoint_id} {self.starts_at:%Y-%m-%d %H:%M}"


class VehiclePass(models.Model):
    """A vehicle stopped at a checkpoint (每车必拦、每车必检): plate, where from, where to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="passes", db_index=False
    )
    shift = models.ForeignKey(
        CheckpointShift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # blank for a person on foot (a station's checkpoint)
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    origin_code = models.CharField(_("from (division)"), max_length=12, blank=True)
    origin_text = models.CharField(_("from"), max_length=128, blank=True)
    route = models.CharField(_("route and destination"), max_length=255, blank=True)
    passed_at = models.DateTimeField(_("time"))
    admitted = models.BooleanField(_("admitted"), default=True)
    division_code = models.CharField(max_length=15)  # the checkpoint's
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    device_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("vehicle check")
        verbose_name_plural = _("vehicle checks")
        indexes = [
            models.Index(fields=["checkpoint", "passed_at"], name="pass_checkpoint_time"),
            models.Index(fields=["plate", "passed_at"], name="pass_plate_time"),
        ]

    def __str__(self) -> str:
        return self.plate or f"pass {self.pk}"


class Document(models.TextChoices):
    """What a person shows at a road checkpoint (KS10-10)."""

    ID_CARD = "id_card", _("ID card")
    RESIDENCE_PERMIT = "residence_permit", _("residence permit")
    WORK_PERMIT = "work_permit", _("work permit")


class Occupant(models.Model):
    """每人必测: one person in a stopped vehicle, what they showed and what the rules asked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vehicle = models.ForeignKey(VehiclePass, on_delete=models.CASCADE, related_name="occupants")
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkpoint_passes",
        db_index=False,
    )
    is_driver = models.BooleanField(_("driver"), default=False)
    documents = models.JSONField(_("documents shown"), default=list, blank=True)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1, null=True, blank=True)
    colour_seen = models.CharField(_("colour seen"), max_length=6, choices=SeenColour.choices, blank=True)
    local = models.BooleanField(_("local"), default=False)
    hubei_related = models.BooleanField(_("Hubei-related"), default=False)
    admitted = models.BooleanField(_("admitted"), default=True)
    actions = models.JSONField(default=list, blank=True)
    passed_at = models.DateTimeField()  # the vehicle's, for the person's trajectory
    division_code = models.CharField(max_length=15)

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("checked person")
        indexes = [models.Index(fields=["person", "passed_at"], name="occupant_person_time")]

    def __str__(self) -> str:
        return f"occupant {self.pk}"


class Reservation(models.Model):
    """预约: a time slot booked at a venue that takes visits by reservation (R5.4, XC-2.2)."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("booked")
        CANCELLED = "cancelled", _("cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="reservations", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="reservations")
    slot_start = models.DateTimeField(_("slot"))
    slot_end = models.DateTimeField()
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["venue", "slot_start"], name="reservation_venue_slot")]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "person", "slot_start"],
                condition=Q(status="booked"),
                name="reservation_one_per_slot",
            )
        ]

    def __str__(self) -> str:
        return f"{self.venue_id} {self.slot_start:%Y-%m-%d %H:%M}"


class CandidateStatus(models.TextChoices):
    TO_INVESTIGATE = "to_investigate", _("to investigate")
    DISMISSED = "dismissed", _("dismissed")


class ContactCandidate(models.Model):
    """A person co-location found beside an index person, marked by an epidemiologist. The
    cases issue turns those to investigate into contacts; until then this is the list."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    index_person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="contact_candidacies")
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="+")
    index_entered_at = models.DateTimeField()
    index_leaves_at = models.DateTimeField()
    entered_at = models.DateTimeField(_("entered"))
    leaves_at = models.DateTimeField(_("until"))
    overlap_minutes = models.PositiveIntegerField(_("overlap (minutes)"))
    method = models.CharField(_("how"), max_length=12, choices=EntryMethod.choices)
    status = models.CharField(_("status"), max_length=16, choices=CandidateStatus.choices)
    division_code = models.CharField(max_length=15)  # the candidate's, for the community that follows up
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    marked_at = models.DateTimeField()

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        indexes = [models.Index(fields=["index_person", "marked_at"], name="candidate_index_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["index_person", "person", "venue", "entered_at"], name="candidate_unique_visit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} beside {self.index_person_id}"


class RetentionRun(models.Model):
    """What a run of the retention job deleted (R5, privacy): counts, never who."""

    id = models.BigAutoField(primary_key=True)
    ran_at = models.DateTimeField()
    cutoff = models.DateTimeField()
    entries_deleted = models.PositiveBigIntegerField(default=0)
    passes_deleted = models.PositiveBigIntegerField(default=0)
    partitions_dropped = models.JSONField(default=list, blank=True)
    partitions_created = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"retention {self.ran_at:%Y-%m-%d %H:%M}"


# Rows as `lib.bulk` writes them.


class EntryRow(NamedTuple):
    id: uuid.UUID
    venue_id: uuid.UUID
    person_id: uuid.UUID | None
    entered_at: datetime
    leaves_at: datetime
    method: str
    division_code: str
    received_at: datetime
    exited_at: datetime | None = None
    temperature: Decimal | None = None
    colour_seen: str = ""
    admitted: bool = True
    actions: list = []
    issuer: str = ""
    recorded_by_id: int | None = None
    device_id: str = ""
