"""What the testing services share: their error, the default time a result is due, the
checks of a division and a lab given in an input, and chunks of a long list for IN queries."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.accounts.scoping import division_in_scope
from epigrid.lib.errors import DomainError
from epigrid.units.models import Unit, UnitKind

DEFAULT_DUE_HOURS = 12


class TestingError(DomainError):
    __test__ = False


def check_division(actor: Actor, code: str, field_name: str = "division_code") -> None:
    from epigrid.regions.models import Division

    if not code or not Division.objects.filter(code=code).exists():
        raise TestingError("division_unknown", _("Choose a division that exists."), field_name)
    if actor.user is not None and not division_in_scope(actor.user, code):
        raise TestingError("division_unknown", _("Choose a division that exists."), field_name)


def active_lab(lab_id) -> Unit | None:
    if lab_id in (None, ""):
        return None
    lab = Unit.objects.filter(pk=lab_id, kind=UnitKind.LAB, active=True).first()
    if lab is None:
        raise TestingError("lab_unknown", _("Choose an active lab."), "lab")
    return lab


def chunks(items: Sequence, size: int = 2000):
    for start in range(0, len(items), size):
        yield items[start : start + size]
