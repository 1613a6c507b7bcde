"""The actor behind a change, and the audit row that records it.

Services take `actor=` and call `record(...)` inside their own `transaction.atomic()` block:
the audit row commits or rolls back with the change it describes. `record` refuses to run
outside a transaction so a forgotten `atomic` shows up in tests, not in an inspection.
"""

from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from epigrid.accounts.models import AuditEvent, AuditRow


@dataclass(frozen=True)
class Actor:
    user: object | None
    via: str = "web"
    ip: str | None = None

    @classmethod
    def from_request(cls, request, via: str = "web") -> "Actor":
        user = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
        return cls(user=user, via=via, ip=client_ip(request))

    @classmethod
    def from_api(cls, request) -> "Actor":
        """Who calls the API: the signed-in user or the token's, via `api` (or what the token's
        authentication named, e.g. a checkpoint's scanner)."""
        return cls.from_request(request, via=getattr(request, "epigrid_via", "api"))

    @classmethod
    def system(cls, via: str = "cli") -> "Actor":
        return cls(user=None, via=via)

    @property
    def username(self) -> str:
        return getattr(self.user, "username", "") or f"<{self.via}>"


def client_ip(request) -> str | None:
    from django.conf import settings

    proxies = getattr(settings, "NINJA_NUM_PROXIES", 0)
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class AuditOutsideTransaction(RuntimeError):
    pass


def record(
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: str = "",
    division_code: str = "",
    fields: list[str] | tuple[str, ...] = (),
    note: str = "",
    at=None,
) -> AuditEvent:
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit rows are written inside the transaction of the change")
    user = actor.user
    return AuditEvent.objects.create(
        at=at or timezone.now(),
        actor=user,
        actor_username=getattr(user, "username", "")[:150] if user else "",
        actor_role=getattr(user, "role", "") if user else "",
        via=actor.via,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        division_code=division_code,
        fields=list(fields),
        note=note[:255],
    )


def record_many(
    actor: Actor, action: str, *, object_type: str, rows: list[tuple[str, str]], fields=(), note=""
):
    """One audit row per object for bulk writes, inserted in one statement."""
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit rows are written inside the transaction of the change")
    from epigrid.lib.bulk import insert_rows

    now = timezone.now()
    user = actor.user
    username = getattr(user, "username", "") if user else ""
    role = getattr(user, "role", "") if user else ""
    user_id = user.pk if user else None
    insert_rows(
        AuditEvent,
        (
            AuditRow(
                at=now,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                division_code=division_code,
                fields=list(fields),
                note=note,
                actor=user_id,
                actor_username=username,
                actor_role=role,
                via=actor.via,
                ip=actor.ip,
            )
            for object_id, division_code in rows
        ),
    )


def audit_queryset(user, *, action="", object_type="", object_id="", actor="", since=None, until=None):
    """Audit rows an auditor may read: those of their divisions, plus sign-ins and system rows
    that carry no division."""
    from django.db.models import Q

    from epigrid.accounts.scoping import prefixes_q, scope_of

    scope = scope_of(user)
    qs = AuditEvent.objects.filter(prefixes_q("division_code", scope.prefixes) | Q(division_code=""))
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor_username=actor)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-id")
