"""Pages of the health code: the person's "my code" page (from their private link), the staff
view of a person's code, the scanner for checkpoints and venues, correction reviews, the key
page, and the public key lists that offline verifiers download."""

import hashlib
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.decorators import ratelimit

from epigrid.accounts.access import public, scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.healthcode import keys, labels, services
from epigrid.healthcode.contact import reveal_contact
from epigrid.healthcode.models import CorrectionRequest, CorrectionStatus, SigningKey, TrustedKey
from epigrid.lib.errors import DomainError
from epigrid.people.models import Person
from epigrid.people.services import person_for_link

# refresh the shown code this long before it expires, so a scanner never sees an expired one
REFRESH_MARGIN_SECONDS = 60


def _code_context(code, issued, at, language):
    return {
        "code": code,
        "issued": issued,
        "colour_name": labels.colour_name(code.colour, language),
        "advice": labels.self_advice(code.colour, language),
        "reasons": labels.reason_rows(code.reasons, language),
        "release": code.release_text(language),
        "refresh_in": max(5, issued.seconds_left(at) - REFRESH_MARGIN_SECONDS),
    }


# --- the person's own code (public, by private link) --------------------------------------------


@public
@never_cache
@ratelimit(key="ip", rate="60/m", block=True)
def my_code(request, token: str):
    """The person's code: QR with the colour, refreshed before it expires, the reasons and what
    to do, the history, and the correction request form. htmx refreshes ask for the card only."""
    person = person_for_link(token)
    if person is None:
        raise Http404
    try:
        code = services.ensure_code(person)
        at = timezone.now()
        issued = services.issue_token(code, at=at)
    except services.HealthCodeError:
        raise Http404
    language = labels.lang()
    context = _code_context(code, issued, at, language)
    context["refresh_url"] = reverse("healthcode:my_code", args=[token])
    if request.htmx:
        return render(request, "healthcode/_code_card.html", context)
    corrections = services.corrections_of(person)
    context.update(
        {
            "person": person,
            "token": token,
            "measures": services.open_measures(person, language),
            "history": labels.history_rows(services.history(person), language),
            "corrections": corrections,
            "correction_url": reverse("healthcode:my_correction", args=[token]),
            "status_url": reverse("web:my_status", args=[token]),
            "open_correction": any(c.status == CorrectionStatus.OPEN for c in corrections),
        }
    )
    return render(request, "healthcode/my_code.html", context)


@public
@require_POST
@ratelimit(key="ip", rate="10/h", block=True)
def my_correction(request, token: str):
    """The person asks for their code to be corrected (申诉)."""
    person = person_for_link(token)
    if person is None:
        raise Http404
    try:
        services.request_correction(
            actor=Actor.from_request(request, via="self"),
            person=person,
            text=request.POST.get("text", ""),
            contact=request.POST.get("contact", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Your request was sent to the CDC for review. The outcome will be shown on this page.")
        )
    return redirect(reverse("healthcode:my_code", args=[token]) + "#corrections")


# --- key lists (public, cacheable) ----------------------------------------------------------------


def _cacheable_json(request, document: dict) -> HttpResponse:
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    # scanners and proxies may keep it a few minutes; a rotation publishes the new key ahead
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@public
@require_GET
@ratelimit(key="ip", rate="300/m", block=True)
def key_list(request):
    """Our issuer's published keys: `{"issuer", "keys": [{"kid", "alg", "public_key",
    "not_before", "not_after"}]}`, what `healthcode verify --keys` and verify.js load."""
    keys.signer()  # a new install publishes its first key before it signs anything
    return _cacheable_json(request, keys.published_key_list().to_dict())


@public
@require_GET
@ratelimit(key="ip", rate="300/m", block=True)
def trust_list(request):
    """Ours and every issuer we trust: `{"issuers": [key list, ...]}` (mutual recognition)."""
    keys.signer()
    return _cacheable_json(request, keys.trust_list().to_dict())


# --- staff ---------------------------------------------------------------------------------


@scoped(Perm.HEALTHCODE_VIEW)
@never_cache
def person_code(request, person_id):
    """A person's code for staff in scope: the QR (e.g. to print for someone without a phone),
    colour, reasons, the full history and the correction requests."""
    person = get_visible_or_404(request.user, Person.objects.all(), pk=person_id)
    if person.merged_into_id:
        return redirect("healthcode:person_code", person_id=person.merged_into_id)
    code = services.ensure_code(person, actor=Actor.from_request(request))
    at = timezone.now()
    issued = services.issue_token(code, at=at)
    language = labels.lang()
    context = _code_context(code, issued, at, language)
    context["refresh_url"] = reverse("healthcode:person_code", args=[person.pk])
    if request.htmx:
        return render(request, "healthcode/_code_card.html", context)
    context.update(
        {
            "person": person,
            "measures": services.open_measures(person, language),
            "history": labels.history_rows(services.history(person), language),
            "corrections": services.corrections_of(person),
            "can_review": request.user.has_epigrid_perm(Perm.HEALTHCODE_REVIEW),
        }
    )
    return render(request, "healthcode/person_code.html", context)


@scoped()
def scan(request):
    """The scanner for checkpoint and venue staff (and staff who may see codes): camera, photo
    or pasted text; verified in the browser against the published keys, and online."""
    perms = request.user.permissions
    if Perm.HEALTHCODE_SCAN not in perms and Perm.HEALTHCODE_VIEW not in perms:
        raise PermissionDenied
    return render(
        request,
        "healthcode/scan.html",
        {
            "texts": {**labels.for_browser(), "issuers": labels.issuer_names()},
            "trust_url": reverse("healthcode:trust"),
            "verify_url": "/api/v1/healthcode/verify",
            "camera_available": _scanner_library_installed(),
        },
    )


def _scanner_library_installed() -> bool:
    from django.contrib.staticfiles import finders

    return finders.find("healthcode/vendor/jsQR.js") is not None


@scoped(Perm.HEALTHCODE_REVIEW)
def corrections(request):
    """Correction requests in the reviewer's scope: open ones first, oldest first."""
    qs = visible_to(request.user, CorrectionRequest.objects.select_related("person"))
    open_requests = list(qs.filter(status=CorrectionStatus.OPEN).order_by("created_at")[:200])
    decided = list(qs.exclude(status=CorrectionStatus.OPEN).order_by("-decided_at")[:50])
    return render(
        request, "healthcode/corrections.html", {"open_requests": open_requests, "decided": decided}
    )


@scoped(Perm.HEALTHCODE_REVIEW)
def correction_detail(request, request_id):
    item = get_visible_or_404(
        request.user, CorrectionRequest.objects.select_related("person", "decided_by"), pk=request_id
    )
    error = None
    if request.method == "POST":
        try:
            services.decide_correction(
                actor=Actor.from_request(request),
                request=item,
                outcome=request.POST.get("outcome", ""),
                notes=request.POST.get("notes", ""),
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("The outcome was recorded; the person sees it on their code page."))
            return redirect("healthcode:corrections")
    language = labels.lang()
    code = getattr(item.person, "health_code", None)
    return render(
        request,
        "healthcode/correction_detail.html",
        {
            "item": item,
            "code": code,
            "colour_name": labels.colour_name(item.colour, language),
            "current_colour_name": labels.colour_name(code.colour, language) if code else "",
            "reasons": labels.reason_rows(item.reasons, language),
            "history": labels.history_rows(services.history(item.person)[:10], language),
            "error": error,
            "notes": request.POST.get("notes", "") if error else "",
        },
    )


@scoped(Perm.HEALTHCODE_REVIEW)
@require_POST
def correction_contact(request, request_id):
    """The contact in full, for the reviewer who must reach the person (audited)."""
    item = get_visible_or_404(request.user, CorrectionRequest.objects.all(), pk=request_id)
    try:
        value = reveal_contact(actor=Actor.from_request(request), request=item)
    except DomainError:
        raise Http404
    return render(request, "people/_revealed.html", {"value": value, "field": "contact"})


@scoped(Perm.HEALTHCODE_KEYS)
def key_admin(request):
    """Signing keys and trusted issuers; rotation from here or with `epigrid healthcode
    rotate-keys`."""
    if request.method == "POST":
        try:
            new, retired = keys.rotate_keys(actor=Actor.from_request(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("New signing key %(kid)s; %(count)s older key(s) keep verifying for 24 hours.")
                % {"kid": new.kid, "count": len(retired)},
            )
        return redirect("healthcode:key_admin")
    now = timezone.now()
    return render(
        request,
        "healthcode/keys.html",
        {
            "issuer": keys.issuer(),
            "signing_key": keys.signer(now) if SigningKey.objects.exists() else None,
            "keys": list(SigningKey.objects.order_by("-not_before")),
            "trusted": list(TrustedKey.objects.order_by("issuer", "not_before")),
            "now": now,
            "ttl": int(keys.token_ttl().total_seconds()),
        },
    )
