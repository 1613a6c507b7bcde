import uuid
from datetime import date, datetime
from typing import NamedTuple

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.scoping import ScopeSpec


class UnitKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    CONSTRUCTION_SITE = "construction_site", _("Construction site")
    SCHOOL = "school", _("School")
    HOTEL = "hotel", _("Hotel")
    ELDERLY_CARE = "elderly_care", _("Elderly-care home")
    WELFARE_HOME = "welfare_home", _("Welfare home")
    PRISON = "prison", _("Prison")
    MENTAL_HEALTH_HOSPITAL = "mental_health_hospital", _("Mental-health hospital")
    MEDICAL_INSTITUTION = "medical_institution", _("Medical institution")
    LAB = "lab", _("Laboratory")
    OTHER = "other", _("Other unit")


# Kinds that are registered legal entities and so carry a unified social credit code.
USCC_REQUIRED = {UnitKind.ENTERPRISE, UnitKind.CONSTRUCTION_SITE, UnitKind.HOTEL}


class RosterRole(models.TextChoices):
    EMPLOYEE = "employee", _("employee")
    STUDENT = "student", _("student")
    TEACHER = "teacher", _("teacher")
    RESIDENT = "resident", _("resident")
    STAFF = "staff", _("staff")
    PATIENT = "patient", _("patient")
    GUEST = "guest", _("guest")


def _managed(unit_ids: list) -> Q:
    return Q(pk__in=unit_ids)


class Unit(models.Model):
    """单位 (R1.3): an enterprise, site, school, home, prison, hospital or other body whose
    people the command must reach through it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    name = models.CharField(_("name"), max_length=128)
    division_code = models.CharField(_("division"), max_length=15)
    address = models.CharField(_("address"), max_length=255, blank=True)
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True, db_index=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone_enc = models.BinaryField(null=True, blank=True)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=24, blank=True)
    staff_count = models.PositiveIntegerField(_("number of people"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_managed)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        indexes = [models.Index(fields=["division_code", "name"], name="unit_division_name")]

    def __str__(self) -> str:
        return self.name


class UnitGroup(models.Model):
    """A class of a school, a team or workshop of an enterprise (班级 / 班组)."""

    class Kind(models.TextChoices):
        CLASS = "class", _("class")
        TEAM = "team", _("team")
        DEPARTMENT = "department", _("department")
        BUILDING = "building", _("building")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="groups")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=64)
    grade = models.PositiveSmallIntegerField(_("grade"), null=True, blank=True)

    class Meta:
        ordering = ["grade", "name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="unitgroup_unique_name")]

    def __str__(self) -> str:
        return self.name


def _roster_unit_q(unit_ids: list) -> Q:
    return Q(unit_id__in=unit_ids)


class RosterEntry(models.Model):
    """A person on a unit's roster, with their role and class or team. Ended entries stay as
    history (`ended_on`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="roster")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="roster_entries")
    role = models.CharField(_("role"), max_length=16, choices=RosterRole.choices)
    group = models.ForeignKey(
        UnitGroup, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    division_code = models.CharField(max_length=15)  # the unit's, so rosters scope like units
    started_on = models.DateField(_("since"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    scope = ScopeSpec(division_field="division_code", unit_q=_roster_unit_q)

    class Meta:
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        indexes = [
            models.Index(fields=["unit", "ended_on"], name="roster_unit_current"),
            models.Index(fields=["person", "ended_on"], name="roster_person_current"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "person", "role"],
                condition=Q(ended_on__isnull=True),
                name="roster_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.unit_id}"

    @classmethod
    def on_person_merge(cls, *, survivor, merged, at=None) -> int:
        """People merge: the roster moves to the survivor (`units.services.merge_roster`)."""
        from epigrid.units.services import merge_roster  # the services import this module

        return merge_roster(survivor=survivor, merged=merged, at=at)


# Rows as `lib.bulk.insert_rows` writes them (the demo's simulation): every column without a
# database default is in each, and the auto_now times are given, since a bulk insert skips them.


class UnitRow(NamedTuple):
    id: uuid.UUID
    kind: str
    name: str
    division_code: str
    created_at: datetime
    updated_at: datetime
    address: str = ""
    uscc: str = ""
    contact_name: str = ""
    contact_phone_enc: bytes | None = None
    contact_phone_masked: str = ""
    staff_count: int = 0
    active: bool = True


class UnitGroupRow(NamedTuple):
    id: uuid.UUID
    unit: uuid.UUID  # the unit's id
    kind: str
    name: str
    grade: int | None = None


class RosterRow(NamedTuple):
    id: uuid.UUID
    unit: uuid.UUID  # the unit's id
    person: uuid.UUID  # the person's id
    role: str
    division_code: str
    started_on: date
    group: uuid.UUID | None = None  # the group's id
    ended_on: date | None = None
