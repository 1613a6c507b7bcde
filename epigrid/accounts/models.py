import uuid
from datetime import datetime
from typing import NamedTuple

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.roles import Role, permissions_of


class User(AbstractUser):
    """A staff member or a machine client. What they may do comes from `role`; where, from
    their `ScopeGrant`s. A user with no grant sees nothing (deny by default)."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    division_code = models.CharField(_("division"), max_length=15, blank=True, db_index=True)
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    is_machine = models.BooleanField(_("machine client"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_epigrid_perm(self, perm: str) -> bool:
        return bool(self.is_active and self.is_authenticated and perm in permissions_of(self.role))

    @property
    def permissions(self) -> frozenset[str]:
        return permissions_of(self.role) if self.is_active else frozenset()


class ScopeGrant(models.Model):
    """Where a user may look: a division prefix (`3205` = a whole city) or, for unit managers,
    one unit. Units are referenced by id only, so `accounts` stays below `units`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="scope_grants")
    division_prefix = models.CharField(max_length=15, blank=True)
    unit_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="scopegrant_one_kind",
                condition=(
                    (models.Q(unit_id__isnull=True) & ~models.Q(division_prefix=""))
                    | (models.Q(unit_id__isnull=False) & models.Q(division_prefix=""))
                ),
            ),
            models.UniqueConstraint(fields=["user", "division_prefix", "unit_id"], name="scopegrant_unique"),
        ]

    def __str__(self) -> str:
        return self.division_prefix or f"unit:{self.unit_id}"


class ApiToken(models.Model):
    """A bearer token for a machine client (lab, checkpoint, data team). Only its SHA-256 is
    stored; the token is shown once at creation. Its scope may narrow its user's, never widen."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scope_prefixes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


# the channel an action came through (`Actor.via`); an unknown one is shown as stored
VIA_LABELS = {
    "web": _("web page"),
    "api": _("API"),
    "cli": _("command line"),
    "public": _("public page"),
    "self": _("own status page"),
    "staff": _("staff entry"),
    "task": _("background task"),
    "worker": _("background worker"),
    "demo": _("demo set-up"),
    "host_unit": _("host unit"),
    "healthcode": _("health code service"),
    "scheduler": _("scheduled job"),
}


class AuditEvent(models.Model):
    """Who did what to which object, from where. Written in the transaction of the change it
    records. `fields` names the fields touched; values of identifiers never appear here."""

    class Action(models.TextChoices):
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        REVEAL = "reveal", _("reveal")
        MERGE = "merge", _("merge")
        DELETE = "delete", _("delete")
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        TOKEN = "token", _("token")
        EXPORT = "export", _("export")
        IMPORT = "import", _("import")

    at = models.DateTimeField(db_index=True)
    # indexed by audit_actor_at, which starts with it: one index less per audited write
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    via = models.CharField(max_length=16, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    division_code = models.CharField(max_length=15, blank=True)
    fields = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            models.Index(fields=["object_type", "at"], name="audit_type_at"),
            models.Index(fields=["division_code", "at"], name="audit_division_at"),
            # looked up by equality only: no second, LIKE-pattern index as db_index would add
            models.Index(fields=["object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    @property
    def role_label(self) -> str:
        return str(Role(self.actor_role).label) if self.actor_role in Role.values else self.actor_role

    @property
    def via_label(self) -> str:
        return str(VIA_LABELS.get(self.via, self.via))

    @property
    def object_type_label(self) -> str:
        from epigrid.accounts.audit_labels import object_type_label

        return object_type_label(self.object_type)

    @property
    def fields_text(self) -> str:
        from epigrid.accounts.audit_labels import fields_text

        return fields_text(self.object_type, self.fields or ())

    @property
    def note_label(self) -> str:
        from epigrid.accounts.audit_labels import note_label

        return note_label(self.note)


class AuditRow(NamedTuple):
    """An AuditEvent as `lib.bulk.insert_rows` writes it (`audit.record_many`)."""

    at: datetime
    action: str
    object_type: str
    object_id: str
    division_code: str = ""
    fields: tuple | list = ()  # the names of the fields touched, stored as a JSON list
    note: str = ""
    actor: int | None = None  # the user's id
    actor_username: str = ""
    actor_role: str = ""
    via: str = ""
    ip: str | None = None
