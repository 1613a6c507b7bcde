"""What the writers of this package share: the permission checks, the reassessment after a
person's facts change, and the audit row of a change to a pushed list."""

from collections.abc import Iterable
from datetime import datetime

from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.declarations.models import PushedList
from epigrid.lib.errors import Forbidden
from epigrid.rules.services import reassess_many


def require(actor: Actor, perm: str) -> None:
    """A signed-in user holding `perm`."""
    if actor.user is None or not actor.user.has_epigrid_perm(perm):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))


def require_pushed_lists(actor: Actor) -> None:
    """The data team's permission; a system actor (no user: the worker, a command) passes."""
    if actor.user is not None and not actor.user.has_epigrid_perm(Perm.PUSHED_LISTS):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))


def reassess_persons(actor: Actor, person_ids: Iterable, at: datetime, cause: str) -> None:
    ids = [pid for pid in person_ids if pid]
    if ids:
        reassess_many(ids, actor=actor, at=at, cause=cause)


def record_list(
    actor: Actor,
    pushed: PushedList,
    note: str,
    *,
    action: str = "update",
    fields: Iterable[str] = ("status",),
) -> None:
    """The audit row of a change to a pushed list (its status, unless `fields` says otherwise)."""
    record(
        actor,
        action,
        object_type="pushed_list",
        object_id=pushed.pk,
        division_code=pushed.division_code,
        fields=list(fields),
        note=note,
    )
