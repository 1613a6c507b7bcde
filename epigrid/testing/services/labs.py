"""Lab users: the lab a user works for, attached by the CDC; a lab request without one is
refused."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import Forbidden
from epigrid.testing.models import (
    LabMember,
)
from epigrid.testing.services.common import TestingError
from epigrid.testing.services.queries import lab_of
from epigrid.units.models import Unit, UnitKind


def attach_lab_member(*, actor: Actor, user, lab: Unit) -> LabMember:
    if lab.kind != UnitKind.LAB:
        raise TestingError("not_a_lab", _("This unit is not a lab."), "lab")
    if user.role != "lab":
        raise TestingError("role_invalid", _("Only lab users work for a lab."), "user")
    with transaction.atomic():
        member, _created = LabMember.objects.update_or_create(
            user=user, defaults={"lab": lab, "created_at": timezone.now()}
        )
        record(
            actor,
            "update",
            object_type="lab_member",
            object_id=member.pk,
            division_code=lab.division_code,
            fields=["user", "lab"],
        )
    return member


def require_lab(user) -> Unit:
    lab = lab_of(user)
    if lab is None:
        raise Forbidden("no_lab", _("Your account is not attached to a lab; ask the CDC to attach it."))
    return lab
