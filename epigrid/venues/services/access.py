"""Who may record at a venue or a checkpoint: its own staff, and staff whose scope covers it
with the permission to record. Everyone else is told the place does not exist (404 shape)."""

from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm, permissions_of
from epigrid.accounts.scoping import scope_of
from epigrid.lib.errors import NotFound


def _perms(user) -> frozenset:
    return permissions_of(getattr(user, "role", "")) if user is not None else frozenset()


def is_venue_staff(user, venue) -> bool:
    return user is not None and venue.staff.filter(user=user).exists()


def can_record(user, venue) -> bool:
    if user is None:
        return False
    if is_venue_staff(user, venue):
        return True
    if Perm.VENUES_ENTRY not in _perms(user):
        return False
    scope = scope_of(user)
    return scope.covers_division(venue.division_code) or (
        venue.owner_unit_id is not None and venue.owner_unit_id in scope.unit_ids
    )


def check_can_record(actor: Actor, venue, *, field: str = "venue_id") -> None:
    if actor.user is None and actor.via != "public":  # the system: commands, jobs, the demo
        return
    if not can_record(actor.user, venue):
        raise NotFound("venue_unknown", _("No such venue is open for entries."), field)


def is_checkpoint_staff(user, checkpoint) -> bool:
    return user is not None and checkpoint.shifts.filter(staff=user).exists()


def check_can_record_at_checkpoint(actor: Actor, checkpoint, *, field: str = "checkpoint_id") -> None:
    if actor.user is None and actor.via != "public":  # the system: commands, jobs, the demo
        return
    user = actor.user
    allowed = user is not None and (
        is_checkpoint_staff(user, checkpoint)
        or (
            Perm.CHECKPOINT_RECORD in _perms(user)
            and scope_of(user).covers_division(checkpoint.division_code)
        )
    )
    if not allowed:
        raise NotFound("checkpoint_unknown", _("No such checkpoint."), field)
