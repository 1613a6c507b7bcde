"""The public pages: declare an arrival or departure without signing in, and report a tip.
Rate-limited per address; the person gets a private link to their own status page."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public
from epigrid.accounts.audit import Actor
from epigrid.declarations import places, services
from epigrid.declarations.forms import DeclarationForm, IdentityForm, TipForm, now_local_input, parse_stops
from epigrid.declarations.models import Declaration
from epigrid.lib.errors import DomainError
from epigrid.rules.models import MeasureRecord, MeasureStatus

SESSION_KEY = "declarations.public_result"


def apply_error(forms_by_field: list, exc: DomainError, fallback) -> None:
    """Show a service error next to its field in whichever form has it."""
    field = (exc.field or "").split(".")[0]
    for form in forms_by_field:
        if field and field in form.fields:
            form.add_error(field, exc.message)
            return
    fallback.add_error(None, exc.message)


def form_context(request, form, identity_form, stops_errors, stops) -> dict:
    areas = places.local_areas()
    return {
        "countries": places.country_choices(get_language() or "zh-hans"),
        "form": form,
        "identity_form": identity_form,
        "stop_errors": stops_errors,
        "stop_rows": [(s.area, s.start, s.end) for s in stops] or [("", "", "")],
        "local_root": areas[0] if len(areas) == 1 else "",
        "now_input": now_local_input(),
    }


@public
@never_cache
@ratelimit(key="ip", rate="30/m", method="GET", block=True)
@ratelimit(key="ip", rate="10/m", method="POST", block=True)
def declare(request):
    """报备: arrival (with 14-day travel history, destination, health status, overseas entry) or
    departure for a trip (R2.1–R2.3, XC-2.1, JX57-2.1, JX57-2.2, JX57-3.12)."""
    language = get_language() or "zh-hans"
    form = DeclarationForm(request.POST or None, language=language, public=True)
    identity_form = IdentityForm(request.POST or None)
    stops, stop_errors = parse_stops(request.POST) if request.method == "POST" else ([], [])
    consent_error = ""
    if request.method == "POST":
        consent = request.POST.get("consent") == "on"
        if not consent:
            consent_error = _("Confirm that the information is true.")
        if form.is_valid() and identity_form.is_valid() and not stop_errors and consent:
            try:
                result = services.declare_public(
                    actor=Actor.from_request(request, via="public"),
                    person_data=identity_form.to_input(),
                    data=form.to_input(stops),
                    language=language,
                )
            except DomainError as exc:
                if (exc.field or "").startswith("stops"):
                    stop_errors.append(exc.message)
                else:
                    apply_error([identity_form, form], exc, form)
            else:
                request.session[SESSION_KEY] = {
                    "declaration": str(result.declaration.pk),
                    "token": result.token,
                    "confirmed": result.confirmed,
                }
                return redirect("declarations:public_declared")
    context = form_context(request, form, identity_form, stop_errors, stops)
    context["consent_error"] = consent_error
    return render(request, "declarations/public/declare.html", context)


@public
@never_cache
@ratelimit(key="ip", rate="30/m", block=True)
def declared(request):
    """The confirmation: the private link, and what follows from the declaration under the rules
    in force, each with its reason and clause."""
    # popped: the token is shown once and does not stay in the session store
    result = request.session.pop(SESSION_KEY, None)
    if not result:
        return redirect("declarations:public_declare")
    declaration = Declaration.objects.select_related("person").filter(pk=result["declaration"]).first()
    if declaration is None:
        return redirect("declarations:public_declare")
    token = result.get("token")
    measures = []
    if token:
        measures = list(
            MeasureRecord.objects.filter(person=declaration.person, status=MeasureStatus.OPEN).order_by(
                "starts_at", "kind"
            )
        )
    language = get_language() or "zh-hans"
    link = request.build_absolute_uri(reverse("web:my_status", args=[token])) if token else ""
    return render(
        request,
        "declarations/public/declared.html",
        {
            "declaration": declaration,
            "token": token,
            "link": link,
            "confirmed": result.get("confirmed"),
            "measures": [(m, m.reason(language)) for m in measures],
        },
    )


@public
@never_cache
@ratelimit(key="ip", rate="30/m", method="GET", block=True)
@ratelimit(key="ip", rate="5/m", method="POST", block=True)
def tip(request):
    """线索: report an arrival that may not have been declared (R2.5, JS79-16)."""
    form = TipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_tip(actor=Actor.from_request(request, via="public"), data=form.to_input())
        except DomainError as exc:
            apply_error([form], exc, form)
        else:
            return redirect("declarations:public_tip_sent")
    areas = places.local_areas()
    return render(
        request,
        "declarations/public/tip.html",
        {"form": form, "local_root": areas[0] if len(areas) == 1 else ""},
    )


@public
@never_cache
def tip_sent(request):
    return render(request, "declarations/public/tip_sent.html")
