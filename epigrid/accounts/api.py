from datetime import datetime
from uuid import UUID

from ninja import Query, Router, Schema

from epigrid.accounts.apiauth import requires
from epigrid.accounts.audit import audit_queryset
from epigrid.accounts.roles import Perm, permissions_of
from epigrid.accounts.scoping import scope_of

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    permissions: list[str]
    scope_prefixes: list[str]
    unit_ids: list[UUID]


class AuditOut(Schema):
    id: int
    at: datetime
    actor_username: str
    actor_role: str
    via: str
    ip: str | None
    action: str
    object_type: str
    object_id: str
    division_code: str
    fields: list[str]
    note: str


@router.get("/me", response=MeOut, summary="Who the caller is and where they may look")
@requires()
def me(request):
    user = request.auth
    scope = scope_of(user)
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "permissions": sorted(permissions_of(user.role)),
        "scope_prefixes": list(scope.prefixes),
        "unit_ids": list(scope.unit_ids),
    }


@router.get("/audit", response=list[AuditOut], summary="Audit events in your scope, newest first")
@requires(Perm.AUDIT_VIEW)
def audit(
    request,
    action: str = Query("", max_length=16),
    object_type: str = Query("", max_length=64),
    object_id: str = Query("", max_length=64),
    actor: str = Query("", max_length=150),
    before_id: int | None = Query(None, ge=1),
    limit: int = Query(100, ge=1, le=500),
):
    qs = audit_queryset(
        request.auth, action=action, object_type=object_type, object_id=object_id, actor=actor
    )
    if before_id:
        qs = qs.filter(id__lt=before_id)
    return list(qs[:limit])
