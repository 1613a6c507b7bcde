"""The testing sections of the person page (staff) and of the person's own status page."""

from __future__ import annotations

from epigrid.accounts.roles import Perm
from epigrid.testing.models import (
    PENDING_ORDER_STATES,
    OrderStatus,
    SequencingRequest,
    Specimen,
    SpecimenStatus,
    TestOrder,
    TestResult,
)


def staff_panel(request, person):
    user = request.user
    if not user.has_epigrid_perm(Perm.TESTING_VIEW):
        return None
    orders = list(
        TestOrder.objects.filter(person=person)
        .select_related("sampling_point", "lab", "specimen")
        .order_by("-ordered_at")[:30]
    )
    results = list(
        TestResult.objects.filter(person=person).select_related("lab").order_by("-sampled_at")[:30]
    )
    sequencing = list(SequencingRequest.objects.filter(person=person).select_related("lab", "specimen"))
    flagged = Specimen.objects.filter(person=person, status=SpecimenStatus.POOL_POSITIVE).exists()
    return (
        "testing/_person_panel.html",
        {
            "person": person,
            "orders": orders,
            "results": results,
            "sequencing": sequencing,
            "flagged": flagged,
            "can_sample": user.has_epigrid_perm(Perm.SAMPLING_DO),
            "can_external": user.has_epigrid_perm(Perm.TESTING_MANAGE),
            "can_sequence": user.has_epigrid_perm(Perm.SEQUENCING),
        },
    )


def self_panel(request, person):
    """What the person must know about their tests: what is ordered and why, until when, where to
    wait for the result (JS79-14), and their results. No staff notes, no lab internals."""
    pending = list(
        TestOrder.objects.filter(person=person, status__in=PENDING_ORDER_STATES)
        .select_related("sampling_point")
        .order_by("due_at")[:20]
    )
    recent = list(
        TestOrder.objects.filter(person=person, status=OrderStatus.RESULTED).order_by("-resulted_at")[:5]
    )
    results = list(TestResult.objects.filter(person=person).order_by("-sampled_at")[:10])
    flagged = Specimen.objects.filter(person=person, status=SpecimenStatus.POOL_POSITIVE).exists()
    if not (pending or recent or results):
        return None
    waiting = [
        o.sampling_point for o in pending if o.sampling_point is not None and o.sampling_point.waiting_place
    ]
    from django.utils.translation import get_language

    language = get_language() or getattr(person, "link_language", "") or "zh-hans"
    return (
        "testing/_self_panel.html",
        {
            "pending": pending,
            "recent": recent,
            "results": results,
            "flagged": flagged,
            "waiting": waiting[:1],
            "zh": (language or "zh").startswith("zh"),
        },
    )


def register() -> None:
    from epigrid.people.panels import register_panel, register_self_panel

    register_panel("testing", order=30, render=staff_panel)
    register_self_panel("testing", order=30, render=self_panel)
