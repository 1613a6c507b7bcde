"""The health code's sections on the person page (staff) and on the person's own status page
(`/me/<token>/`), registered in `HealthcodeConfig.ready()`."""

from django.urls import reverse

from epigrid.accounts.roles import Perm
from epigrid.healthcode import labels
from epigrid.healthcode.models import ColourChange, CorrectionRequest, CorrectionStatus, HealthCode


def person_panel(request, person):
    """For staff who may see health codes: colour, reasons, the latest changes, and a link to
    the code page with the full history."""
    if not request.user.has_epigrid_perm(Perm.HEALTHCODE_VIEW):
        return None
    code = HealthCode.objects.filter(person=person).first()
    language = labels.lang()
    return (
        "healthcode/_person_panel.html",
        {
            "code": code,
            "colour_name": labels.colour_name(code.colour, language) if code else "",
            "reasons": labels.reason_rows(code.reasons, language) if code else [],
            "release": code.release_text(language) if code else "",
            "changes": labels.history_rows(
                ColourChange.objects.filter(person=person).order_by("-at", "-id")[:5], language
            ),
            "open_correction": CorrectionRequest.objects.filter(
                person=person, status=CorrectionStatus.OPEN
            ).first(),
            "url": reverse("healthcode:person_code", args=[person.pk]),
        },
    )


def self_panel(request, person):
    """On the person's own page: their colour and the way to their code."""
    from epigrid.healthcode.services import ensure_code

    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match else None
    if not token:
        return None
    code = ensure_code(person)
    language = labels.lang()
    return (
        "healthcode/_self_panel.html",
        {
            "code": code,
            "colour_name": labels.colour_name(code.colour, language),
            "reasons": labels.reason_rows(code.reasons, language),
            "release": code.release_text(language),
            "url": reverse("healthcode:my_code", args=[token]),
        },
    )
