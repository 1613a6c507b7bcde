"""The public pages: declare an arrival or departure without signing in, and report a tip.
Rate-limited per address; the person gets a private link to their own status page."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public
from epigrid.accounts.audit import Actor
from epigrid.declarations import places, services
from epigrid.declarations.forms import DeclarationForm, IdentityForm, TipForm, now_local_input, parse_stops
from epigrid.declarations.models import Declaration
from epigrid.lib.errors import DomainError, each_error
from epigrid.rules.models import MeasureRecord, MeasureStatus

SESSION_KEY = "declarations.public_result"


# the form asks for one thing in two fields: a country, or a place in China
_SAME_FIELD = {"origin": ("origin_country",), "travel_to": ("travel_to_country",)}


def apply_error(
    forms_by_field: list, exc: DomainError, fallback, stop_errors=None, *, only_new=False
) -> None:
    """Show each of a service's errors next to its field in whichever form has it; errors of a
    travel stop go to the list of stops, numbered as the person sees them. With `only_new`, a
    field that already shows an error (from the form itself) keeps only that one."""
    for error in each_error(exc):
        field = (error.field or "").split(".")[0]
        if field == "stops" and stop_errors is not None:
            parts = (error.field or "").split(".")
            message = error.message
            if len(parts) > 1 and parts[1].isdigit():
                message = _("Place %(n)d: %(message)s") % {"n": int(parts[1]) + 1, "message": error.message}
            if message not in stop_errors:
                stop_errors.append(message)
            continue
        form = next((f for f in forms_by_field if field and field in f.fields), None)
        if only_new and form is not None and any(form.has_error(f) for f in _SAME_FIELD.get(field, ())):
            continue
        if form is None:
            if error.message not in fallback.non_field_errors():
                fallback.add_error(None, error.message)
        elif not (only_new and form.has_error(field)) and error.message not in form.errors.get(field, []):
            form.add_error(field, error.message)


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
        forms_valid = form.is_valid() & identity_form.is_valid()  # both: every field's errors
        if forms_valid and not stop_errors and consent:
            try:
                result = services.declare_public(
                    actor=Actor.from_request(request, via="public"),
                    person_data=identity_form.to_input(),
                    data=form.to_input(stops),
                    language=language,
                )
            except DomainError as exc:
                apply_error([identity_form, form], exc, form, stop_errors)
            else:
                request.session[SESSION_KEY] = {
                    "declaration": str(result.declaration.pk),
                    "token": result.token,
                    "confirmed": result.confirmed,
                }
                return redirect("declarations:public_declared")
        elif form.is_bound:
            # the service's checks on what could be read, so that every error shows at once,
            # not those of the form now and the service's after the next try
            try:
                services.check_public(identity_form.partial_input(), form.to_input(stops), now=timezone.now())
            except DomainError as exc:
                apply_error([identity_form, form], exc, form, stop_errors, only_new=True)
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
