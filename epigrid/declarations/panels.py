"""What the declarations app adds to the person page (staff) and to the person's own status page
(`/me/<token>/`)."""

from django.utils.translation import get_language

from epigrid.accounts.roles import Perm
from epigrid.declarations import places
from epigrid.declarations.forms import SYMPTOM_CHOICES
from epigrid.declarations.models import (
    COUNTED_STATUSES,
    Declaration,
    DeclarationStatus,
    PushedRow,
    RowState,
    TravelStop,
    VerificationTask,
)

SYMPTOMS = dict(SYMPTOM_CHOICES)


def _labels(codes, language: str) -> dict:
    return places.place_labels({c for c in codes if c}, language)


def decorate(declarations: list[Declaration], language: str) -> None:
    codes = set()
    for d in declarations:
        codes.update((d.origin, d.entry_port, d.travel_to, d.division_code, d.health_code_issuer))
        codes.update(s.area for s in d.stops.all())
    labels = _labels(codes, language)
    for d in declarations:
        d.origin_label = labels.get(d.origin, d.origin)
        d.entry_port_label = labels.get(d.entry_port, d.entry_port)
        d.travel_to_label = labels.get(d.travel_to, d.travel_to)
        d.division_label = labels.get(d.division_code, d.division_code)
        d.issuer_label = labels.get(d.health_code_issuer, d.health_code_issuer)
        d.stop_rows = [(s, labels.get(s.area, s.area)) for s in d.stops.all()]
        d.symptom_labels = [SYMPTOMS.get(s, s) for s in d.symptoms or ()]


def person_panel(request, person):
    """Declarations, travel history, pushed-list entries and checks of a person, for staff who
    may read declarations (the page has already checked the person is in their scope)."""
    user = request.user
    if not user.has_epigrid_perm(Perm.DECLARATIONS_VIEW):
        return None
    language = get_language() or "zh-hans"
    declarations = list(
        Declaration.objects.filter(person=person).prefetch_related("stops").order_by("-declared_at")[:30]
    )
    decorate(declarations, language)
    stops = list(
        TravelStop.objects.filter(person=person, declaration__status__in=COUNTED_STATUSES).order_by("-start")[
            :40
        ]
    )
    stop_labels = _labels((s.area for s in stops), language)
    pushed = list(
        PushedRow.objects.filter(person=person, state=RowState.COMMITTED)
        .select_related("pushed_list")
        .order_by("-committed_at")[:20]
    )
    pushed_labels = _labels((r.origin for r in pushed), language)
    for row in pushed:
        row.origin_label = pushed_labels.get(row.origin, row.origin)
    checks = list(VerificationTask.objects.filter(person=person).order_by("-created_at")[:20])
    return (
        "declarations/panels/person.html",
        {
            "person": person,
            "declarations": declarations,
            "stops": [(s, stop_labels.get(s.area, s.area)) for s in stops],
            "pushed": pushed,
            "checks": checks,
            "can_declare": user.has_epigrid_perm(Perm.DECLARATIONS_EDIT),
        },
    )


def self_panel(request, person):
    """What the person declared, in their own words back to them: no staff notes, no pushed
    lists, no tips, nothing about who reported what."""
    language = get_language() or "zh-hans"
    declarations = list(
        Declaration.objects.filter(person=person)
        .exclude(status=DeclarationStatus.WITHDRAWN)
        .prefetch_related("stops")
        .order_by("-declared_at")[:10]
    )
    if not declarations:
        return None
    decorate(declarations, language)
    return ("declarations/panels/self.html", {"declarations": declarations})
