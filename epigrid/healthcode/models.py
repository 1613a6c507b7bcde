"""Health codes (健康码, R4): each person's code and colour with its history, the keys that sign
the QR tokens, the other issuers we trust, and correction requests (申诉).

The colour itself is decided by the rules (`rules.services.reassess`); this app records what
the rules decided (a decision listener), signs it into short-lived tokens and answers whether
a token is still current.
"""

import uuid
from datetime import datetime
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.scoping import ScopeSpec
from epigrid.healthcode.labels import in_language


class Colour(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


class HealthCode(models.Model):
    """A person's code: a pseudonymous code id that goes into every token (never the ID number
    or the name), and the colour the rules gave the person, with its reasons.

    `code_id` holds 16 random bytes (stored as a UUID so both databases index it natively);
    online verification finds the row by it with one index lookup."""

    id = models.BigAutoField(primary_key=True)
    person = models.OneToOneField("people.Person", on_delete=models.PROTECT, related_name="health_code")
    code_id = models.UUIDField(unique=True, editable=False)
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices)
    # when the current colour began, in the rules' time (the evaluation time of the decision)
    colour_since = models.DateTimeField(_("since"))
    # when the current colour was written (wall clock): a token issued before it is stale
    changed_at = models.DateTimeField()
    # [{"rule", "requirements": [...], "zh-hans", "en"}] of the rules behind the colour
    reasons = models.JSONField(default=list)
    requirements = models.JSONField(default=list)
    # what clears it: {"zh-hans", "en"}; null for green
    release = models.JSONField(null=True, blank=True)
    # when it clears by itself if nothing else changes; null when that depends on an event
    release_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(
        "rules.DecisionRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    division_code = models.CharField(max_length=15)
    created_at = models.DateTimeField()
    # set when the code id was withdrawn (the record was merged into another): its tokens stop
    # verifying online
    revoked_at = models.DateTimeField(null=True, blank=True)

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        verbose_name = _("health code")
        indexes = [models.Index(fields=["division_code", "colour"], name="healthcode_division_colour")]

    def __str__(self) -> str:
        return f"{self.code_id} {self.colour}"

    def release_text(self, language: str) -> str:
        return in_language(self.release, language)

    @classmethod
    def on_person_merge(cls, *, survivor, merged, at: datetime | None = None) -> int:
        # people.services.merge_persons calls this hook; the service decides (and takes the time)
        from epigrid.healthcode.services.codes import merge_codes

        return merge_codes(survivor=survivor, merged=merged, at=at)


class ColourChange(models.Model):
    """One entry of a person's colour history: the colour (or the reasons behind it) changed."""

    id = models.BigAutoField(primary_key=True)
    # indexed by colourchange_person_time, which starts with it
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="colour_changes", db_index=False
    )
    old_colour = models.CharField(max_length=8, choices=Colour.choices, blank=True)
    new_colour = models.CharField(max_length=8, choices=Colour.choices)
    # the evaluation time of the decision (rules' time) and the time the row was written
    at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    reasons = models.JSONField(default=list)
    requirements = models.JSONField(default=list)
    release = models.JSONField(null=True, blank=True)
    release_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(
        "rules.DecisionRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cause = models.CharField(max_length=40, blank=True)
    division_code = models.CharField(max_length=15)

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        indexes = [
            models.Index(fields=["person", "at", "id"], name="colourchange_person_time"),
            # the scanners' colour-change feed (`feed.changes`): a range of recent writes
            models.Index(fields=["recorded_at", "id"], name="colourchange_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.old_colour or '-'} → {self.new_colour}"

    @classmethod
    def on_person_merge(cls, *, survivor, merged, at: datetime | None = None) -> int:
        # history belongs to the code: the merge service moves it when the code moves
        # (HealthCode.on_person_merge), so it is not moved by itself here
        return 0

    @property
    def colour_changed(self) -> bool:
        return self.old_colour != self.new_colour

    def release_text(self, language: str) -> str:
        return in_language(self.release, language)


class CodeRow(NamedTuple):
    """A new HealthCode as `lib.bulk.insert_rows` writes it (`services.colours.record_decisions`)."""

    person: uuid.UUID  # the person's id
    code_id: uuid.UUID
    colour: str
    colour_since: datetime
    changed_at: datetime
    created_at: datetime
    division_code: str
    reasons: list = []
    requirements: list = []
    release: dict | None = None
    release_at: datetime | None = None
    decision: uuid.UUID | None = None  # the DecisionRecord's id


class CodeColourRow(NamedTuple):
    """What a decision changes on an existing HealthCode, by `id` (`lib.bulk.update_rows`)."""

    id: int
    colour: str
    colour_since: datetime
    changed_at: datetime
    division_code: str
    reasons: list
    requirements: list
    release: dict | None
    release_at: datetime | None
    decision: uuid.UUID | None


class ColourChangeRow(NamedTuple):
    """A ColourChange as `lib.bulk.insert_rows` writes it."""

    person: uuid.UUID
    new_colour: str
    at: datetime
    recorded_at: datetime
    division_code: str
    old_colour: str = ""
    reasons: list = []
    requirements: list = []
    release: dict | None = None
    release_at: datetime | None = None
    decision: uuid.UUID | None = None
    cause: str = ""


class SigningKey(models.Model):
    """One of our Ed25519 signing keys. The private key is stored encrypted (`lib.crypto`,
    field name `healthcode.signing_key` and the kid as associated data); the public key is
    published.

    A key signs from `not_before` on; the newest key whose window has begun signs new tokens.
    Rotation gives the old key a `not_after` far enough ahead that tokens it signed keep
    verifying until they expire; after `not_after` it is no longer published."""

    id = models.BigAutoField(primary_key=True)
    issuer = models.CharField(max_length=16)
    kid = models.CharField(max_length=8, unique=True)  # hex of the 4-byte kid
    public_key = models.BinaryField()
    private_key_enc = models.BinaryField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-not_before", "-id"]

    def __str__(self) -> str:
        return f"{self.issuer} {self.kid}"


class TrustedKey(models.Model):
    """A verification key of another issuer (another province) that we trust: mutual
    recognition (一码通行) of their health codes. Loaded from the issuer's published key list
    with `epigrid healthcode trust add FILE`."""

    id = models.BigAutoField(primary_key=True)
    issuer = models.CharField(max_length=16)
    kid = models.CharField(max_length=8)
    public_key = models.BinaryField()
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["issuer", "not_before", "kid"]
        constraints = [models.UniqueConstraint(fields=["issuer", "kid"], name="trustedkey_issuer_kid")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.kid}"


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("under review")
    CORRECTED = "corrected", _("corrected")
    REJECTED = "rejected", pgettext_lazy("correction", "rejected")


class CorrectionRequest(models.Model):
    """A person's request to correct their code (申诉): they say why the colour is wrong; a CDC
    reviewer checks it (a task) and records the outcome. The outcome never sets a colour by
    itself: a correction is made by fixing the facts where they live (a test result, a
    declaration), which reassesses the person; the reviewer notes what was fixed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="code_corrections")
    colour = models.CharField(_("colour at the time"), max_length=8, choices=Colour.choices)
    decision = models.ForeignKey(
        "rules.DecisionRecord", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reasons = models.JSONField(default=list)
    text = models.TextField(_("what is wrong"))
    # how to reach the person, as they gave it (a phone or other contact): stored like every
    # phone, sealed for this row (`healthcode.contact`), a blind index and a masked form
    contact_enc = models.BinaryField(null=True, blank=True)
    contact_bidx = models.CharField(max_length=32, blank=True)
    contact_masked = models.CharField(_("contact"), max_length=64, blank=True)
    via = models.CharField(max_length=16, default="self")
    status = models.CharField(
        _("status"), max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN
    )
    outcome_notes = models.TextField(_("notes"), blank=True)
    division_code = models.CharField(max_length=15)
    task_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["person", "created_at"], name="correction_person"),
            models.Index(fields=["status", "division_code"], name="correction_status"),
        ]

    def __str__(self) -> str:
        return f"correction {self.pk} {self.status}"
