import uuid
from datetime import date, datetime
from typing import NamedTuple

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.scoping import ScopeSpec
from epigrid.lib import identity


class DocumentType(models.TextChoices):
    RESIDENT_ID = identity.RESIDENT_ID, _("Resident ID card")
    PASSPORT = identity.PASSPORT, _("Passport")
    HK_MACAO_PERMIT = identity.HK_MACAO_PERMIT, _("Mainland travel permit (Hong Kong / Macao)")
    TAIWAN_PERMIT = identity.TAIWAN_PERMIT, _("Mainland travel permit (Taiwan)")
    FOREIGN_RESIDENCE = identity.FOREIGN_RESIDENCE, _("Foreign permanent residence ID")
    OTHER = identity.OTHER, _("Other document")


class Sex(models.TextChoices):
    MALE = "M", _("male")
    FEMALE = "F", _("female")
    UNKNOWN = "U", _("unknown")


class Status(models.TextChoices):
    ACTIVE = "active", _("active")
    MERGED = "merged", _("merged")


def _unit_q(unit_ids: list) -> Q:
    # a unit manager reaches the people on their units' current rosters (R1.3)
    return Q(roster_entries__unit_id__in=unit_ids, roster_entries__ended_on__isnull=True)


# where a record came from; the code is stored, the label shown
SOURCE_LABELS = {
    "manual": _("entered by staff"),
    "upload": _("imported from a file"),
    "self_declaration": _("own declaration"),
    "staff_declaration": _("declaration entered by staff"),
    "pushed_list": _("pushed list"),
    "declaration": _("declaration"),
    "tip": _("tip"),
    "verification": _("grid worker's check"),
    "simulated": _("simulated (demo)"),
}


class Person(models.Model):
    """一人一档: one record per person (R1.1). Identifiers are stored only encrypted, with a
    blind index for exact search and a masked form for display."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    doc_type = models.CharField(_("document type"), max_length=24, choices=DocumentType.choices)
    id_number_enc = models.BinaryField(_("document number (encrypted)"))
    id_number_bidx = models.CharField(max_length=32, db_index=True)
    id_number_masked = models.CharField(_("document number"), max_length=32)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=64)
    name_pinyin = models.CharField(_("pinyin"), max_length=128, blank=True, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    nationality = models.CharField(_("nationality"), max_length=3, default="CHN")
    phone_enc = models.BinaryField(_("phone (encrypted)"), null=True, blank=True)
    phone_bidx = models.CharField(max_length=32, blank=True, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=24, blank=True)
    address = models.CharField(_("residence address"), max_length=255, blank=True)
    division_code = models.CharField(_("division"), max_length=15)
    household_id = models.UUIDField(_("household"), null=True, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    source = models.CharField(_("source"), max_length=32, default="manual")  # a SOURCE_LABELS key
    registered_at = models.DateTimeField(_("registered"))
    updated_at = models.DateTimeField(_("updated"))

    scope = ScopeSpec(division_field="division_code", unit_q=_unit_q)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            # the scoped list: range on division, newest first
            models.Index(fields=["division_code", "registered_at", "id"], name="person_division_list"),
            models.Index(fields=["registered_at", "id"], name="person_list"),
            models.Index(fields=["name"], name="person_name"),
            models.Index(fields=["birth_date", "division_code"], name="person_birth_division"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def source_label(self) -> str:
        return str(SOURCE_LABELS.get(self.source, self.source))

    @property
    def is_merged(self) -> bool:
        return self.status == Status.MERGED


class PersonRow(NamedTuple):
    """A Person as `lib.bulk.insert_rows` writes it (the demo's simulation): every column
    without a database default is here. The identifiers come sealed and indexed for the row
    (`people.services.encrypted_columns` does the same for one record)."""

    id: uuid.UUID
    doc_type: str
    id_number_enc: bytes
    id_number_bidx: str
    id_number_masked: str
    name: str
    division_code: str
    registered_at: datetime
    updated_at: datetime
    name_pinyin: str = ""
    sex: str = Sex.UNKNOWN
    birth_date: date | None = None
    nationality: str = "CHN"
    phone_enc: bytes | None = None
    phone_bidx: str = ""
    phone_masked: str = ""
    address: str = ""
    household_id: uuid.UUID | None = None
    status: str = Status.ACTIVE
    merged_into: uuid.UUID | None = None  # the survivor's id
    source: str = "manual"  # a SOURCE_LABELS key


class PersonMerge(models.Model):
    """The trace of a merge: who merged which record into which, and what moved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_in")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_out")
    reason = models.CharField(_("reason"), max_length=32)
    moved = models.JSONField(_("links moved"), default=dict)
    filled_fields = models.JSONField(default=list)
    at = models.DateTimeField()
    by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"


class PrivateLink(models.Model):
    """A person's private link to their own status page (their measures, health code, results),
    given after a declaration. Only the token's hash is stored; whoever holds the link sees the
    status of this one person, nothing else, and never the full identifiers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="private_links")
    token_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, default="zh-hans")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link {self.id}"
