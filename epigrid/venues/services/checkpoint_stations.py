"""Road checkpoints and their shifts (R5.2, KS10-9): a command in scope creates the station and
puts staff on shifts; the staff of a shift record there (`services.access`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm, permissions_of
from epigrid.accounts.scoping import division_in_scope
from epigrid.lib.errors import ErrorCollector, NotFound
from epigrid.venues.models import Checkpoint, CheckpointKind, CheckpointShift
from epigrid.venues.services.checkpoint_people import CheckpointError


def _perms(actor: Actor) -> frozenset:
    return permissions_of(getattr(actor.user, "role", "")) if actor.user is not None else frozenset()


def _check_manage(actor: Actor, division_code: str, field: str | None = None) -> None:
    if actor.user is None:
        return
    if Perm.CHECKPOINTS_MANAGE not in _perms(actor) or not division_in_scope(actor.user, division_code):
        raise NotFound("checkpoint_unknown", _("No such checkpoint."), field)


# --- stations and shifts ----------------------------------------------------------------


@dataclass
class CheckpointInput:
    name: str
    kind: str
    division_code: str
    road: str = ""
    direction: str = ""


def create_checkpoint(*, actor: Actor, data: CheckpointInput, at=None) -> Checkpoint:
    """A checkpoint in the actor's scope (CHECKPOINTS_MANAGE)."""
    from epigrid.regions.models import Division

    now = at or timezone.now()
    errors = ErrorCollector()
    if not (data.name or "").strip():
        errors.add(CheckpointError("name_missing", _("Give the checkpoint's name."), "name"))
    if data.kind not in CheckpointKind.values:
        errors.add(CheckpointError("kind_unknown", _("Choose the kind of checkpoint."), "kind"))
    in_scope = actor.user is None or division_in_scope(actor.user, data.division_code)
    if not in_scope or not Division.objects.filter(code=data.division_code).exists():
        errors.add(
            CheckpointError(
                "division_unknown", _("Choose the division the checkpoint lies in."), "division_code"
            )
        )
    errors.raise_any()
    _check_manage(actor, data.division_code, "division_code")
    with transaction.atomic():
        checkpoint = Checkpoint.objects.create(
            name=data.name.strip()[:128],
            kind=data.kind,
            division_code=data.division_code,
            road=(data.road or "").strip()[:64],
            direction=(data.direction or "").strip()[:64],
            created_at=now,
        )
        record(
            actor,
            "create",
            object_type="checkpoint",
            object_id=str(checkpoint.pk),
            division_code=checkpoint.division_code,
            fields=["name", "kind", "division_code"],
            at=now,
        )
    return checkpoint


def open_shift(
    *,
    actor: Actor,
    checkpoint: Checkpoint,
    starts_at: datetime,
    ends_at: datetime,
    staff=(),
    leader=None,
    note: str = "",
    at=None,
) -> CheckpointShift:
    """A shift with the staff on it: they record at this checkpoint (and only there)."""
    now = at or timezone.now()
    _check_manage(actor, checkpoint.division_code, "checkpoint_id")
    errors = ErrorCollector()
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors.add(
            CheckpointError("time_naive", _("A time needs its zone (for example +08:00)."), "starts_at")
        )
    elif ends_at <= starts_at:
        errors.add(CheckpointError("shift_order", _("A shift ends after it starts."), "ends_at"))
    elif ends_at - starts_at > timedelta(hours=24):
        errors.add(CheckpointError("shift_length", _("A shift lasts at most 24 hours."), "ends_at"))
    staff = list(staff)
    if leader is not None and leader not in staff:
        staff.append(leader)
    for user in staff:
        if not user.is_active or Perm.CHECKPOINT_RECORD not in permissions_of(user.role):
            errors.add(
                CheckpointError(
                    "staff_role", _("Only checkpoint staff accounts can be put on a shift."), "staff"
                )
            )
            break
    errors.raise_any()
    with transaction.atomic():
        shift = CheckpointShift.objects.create(
            checkpoint=checkpoint,
            starts_at=starts_at,
            ends_at=ends_at,
            leader=leader,
            note=(note or "").strip()[:255],
        )
        shift.staff.set(staff)
        record(
            actor,
            "create",
            object_type="checkpoint_shift",
            object_id=str(shift.pk),
            division_code=checkpoint.division_code,
            fields=["starts_at", "ends_at", "staff"],
            note=f"shift {shift.pk}, {len(staff)} staff",
            at=now,
        )
    return shift


def visible_checkpoints(user):
    """The checkpoints a user may open: those in their scope (with a checkpoint permission)
    and those whose shifts they stand on."""
    from django.db.models import Q

    from epigrid.accounts.scoping import visible_to

    perms = permissions_of(getattr(user, "role", ""))
    where = Q(pk__in=Checkpoint.objects.filter(shifts__staff=user).values("pk"))
    if perms & {Perm.CHECKPOINTS_MANAGE, Perm.CHECKPOINT_RECORD}:
        where |= Q(pk__in=visible_to(user, Checkpoint.objects.all()).values("pk"))
    return Checkpoint.objects.filter(where)


def shift_at(checkpoint: Checkpoint, moment: datetime, user=None) -> CheckpointShift | None:
    """The shift on duty at `moment` (the user's own when they are on one)."""
    shifts = checkpoint.shifts.filter(starts_at__lte=moment, ends_at__gt=moment)
    if user is not None:
        own = shifts.filter(staff=user).first()
        if own is not None:
            return own
    return shifts.first()
