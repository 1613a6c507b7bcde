"""Health code API, /api/v1/healthcode (GB/T 38963-2020 interfaces: see docs/healthcode.md).

- POST /verify                         code verification (码核验): offline checks + freshness
- GET  /persons/{id}                   health information query (健康信息查询): colour, reasons, history
- POST /persons/{id}/code              code generation (码生成): a signed token and its QR
- POST /persons/{id}/corrections       correction request (申诉) entered by staff for a person
- GET  /corrections                    correction requests to review (CDC)
- POST /corrections/{id}/contact       the contact left on a request, revealed (audited)
- POST /corrections/{id}/decision      a reviewer's outcome

The key list itself is public at /healthcode/keys.json (and trust.json), outside the API.
"""

import functools
import hashlib
import json
import time
from datetime import datetime
from typing import Literal
from uuid import UUID

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import Field

from epigrid.accounts.apiauth import SessionAuth, requires
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm, permissions_of
from epigrid.accounts.scoping import get_visible_or_404, visible_to
from epigrid.healthcode import services, tokens
from epigrid.healthcode.contact import reveal_contact
from epigrid.healthcode.models import CorrectionRequest
from epigrid.lib.errors import Forbidden
from epigrid.people.models import Person

router = Router(tags=["healthcode"])
JSON = "application/json; charset=utf-8"


def requires_any(*perms: str):
    """Like `requires`, but one of the permissions is enough (scanning staff or staff who may
    view codes)."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(request, *args, **kwargs):
            if not set(perms) & permissions_of(getattr(request.auth, "role", "")):
                raise Forbidden("permission_denied", _("Your role does not allow this operation."))
            return func(request, *args, **kwargs)

        wrapper.epigrid_access = "scoped"
        wrapper.epigrid_perms = perms
        return wrapper

    return decorate


# --- verification ---------------------------------------------------------------------------------

_AUTH_CACHE: dict[bytes, tuple[object, float]] = {}
_AUTH_CACHE_MAX = 10_000


def _auth_cache_seconds() -> float:
    return float(getattr(settings, "EPIGRID_HEALTHCODE_AUTH_CACHE_SECONDS", 30))


class CachedTokenAuth(HttpBearer):
    """The API's bearer-token authentication (`accounts.services.user_for_token`), with each
    worker process remembering a token's user for a few seconds: a checkpoint scans hundreds
    of codes a minute with one token, and looking the token up on every scan would cost more
    than the verification itself. A revoked token or deactivated user stops working on this
    one operation within `EPIGRID_HEALTHCODE_AUTH_CACHE_SECONDS` (default 30)."""

    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        from epigrid.accounts.services import user_for_token

        key = hashlib.sha256(token.encode("utf-8", "replace")).digest()
        now = time.monotonic()
        hit = _AUTH_CACHE.get(key)
        if hit is not None and hit[1] > now:
            user = hit[0]
        else:
            user = user_for_token(token)
            if user is None:
                _AUTH_CACHE.pop(key, None)
                return None
            if len(_AUTH_CACHE) >= _AUTH_CACHE_MAX:
                _AUTH_CACHE.clear()
            _AUTH_CACHE[key] = (user, now + _auth_cache_seconds())
        request.user = user
        request.epigrid_via = "api"
        return user


class VerifyIn(Schema):
    # the longest valid token is 161 characters; a little room so a bad one gets a reason
    token: str = Field(max_length=400, description="the QR text, `HCT1:…`")


class PersonRef(Schema):
    id: UUID
    name: str


class VerifyOut(Schema):
    valid: bool
    reason: str = Field(description="ok, or why not: " + ", ".join(r.value for r in tokens.Reason))
    colour: str | None = Field(None, description="the colour the token carries (signature checked)")
    issuer: str | None = None
    kid: str | None = None
    issued_at: str | None = None
    expires: str | None = None
    online: Literal["current", "stale", "revoked", "unknown_code", "not_checked"]
    stale: bool | None = Field(None, description="the colour changed since the token was issued")
    current_colour: str | None = None
    holder: str | None = Field(None, description="the holder's name masked (李*新), for staff who may scan")
    action: dict | None = Field(
        None, description="red or yellow: what the holder must do (the measures in force), zh-hans and en"
    )
    person: PersonRef | None = Field(None, description="only for staff who may view the person")
    reasons: list[dict] | None = None
    requirements: list[str] | None = None
    release: dict | None = None
    release_at: str | None = None
    colour_since: str | None = None


@router.post(
    "/verify",
    auth=[CachedTokenAuth(), SessionAuth()],
    response=VerifyOut,
    exclude_none=True,
    summary="Verify a health code token and say whether its colour is still current (码核验)",
)
@requires_any(Perm.HEALTHCODE_SCAN, Perm.HEALTHCODE_VIEW)
def verify(request, payload: VerifyIn):
    # answered as it is: the dict is built field by field in verify_online, so validating it
    # again against VerifyOut (kept for the OpenAPI description) would only cost time per scan
    result = services.verify_online(payload.token, viewer=request.auth)
    return HttpResponse(json.dumps({k: v for k, v in result.items() if v is not None}), content_type=JSON)


# --- health information query and code generation -------------------------------------------------


class ColourHistoryOut(Schema):
    at: datetime
    old_colour: str
    new_colour: str
    reasons: list[dict]
    requirements: list[str]
    release: dict | None
    release_at: datetime | None
    cause: str


class CodeInfoOut(Schema):
    person: PersonRef
    colour: str
    colour_since: datetime
    reasons: list[dict]
    requirements: list[str]
    release: dict | None
    release_at: datetime | None
    history: list[ColourHistoryOut]
    open_correction: UUID | None


@router.get("/persons/{person_id}", response=CodeInfoOut, summary="A person's colour, reasons and history")
@requires(Perm.HEALTHCODE_VIEW)
def person_code(request, person_id: UUID):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)
    code = services.ensure_code(person, actor=Actor.from_api(request))
    return {
        "person": {"id": person.pk, "name": person.name},
        "colour": code.colour,
        "colour_since": code.colour_since,
        "reasons": code.reasons,
        "requirements": code.requirements,
        "release": code.release,
        "release_at": code.release_at,
        "history": services.history(person),
        "open_correction": services.open_correction_id(person),
    }


class TokenOut(Schema):
    token: str
    colour: str
    issued_at: datetime
    expires: datetime
    kid: str
    issuer: str
    svg: str = Field(description="the QR as inline SVG")


@router.post(
    "/persons/{person_id}/code",
    response=TokenOut,
    summary="Generate a signed code for a person, e.g. to print for someone without a phone (码生成)",
)
@requires(Perm.HEALTHCODE_VIEW)
def generate_code(request, person_id: UUID):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)
    issued = services.issue_token_for_staff(person, actor=Actor.from_api(request))
    return {
        "token": issued.token,
        "colour": issued.colour,
        "issued_at": issued.issued_at,
        "expires": issued.expires_at,
        "kid": issued.kid,
        "issuer": issued.issuer,
        "svg": issued.svg,
    }


# --- correction requests ----------------------------------------------------------------------


class CorrectionIn(Schema):
    text: str = Field(min_length=4, max_length=2000)
    contact: str = Field("", max_length=64)


class CorrectionOut(Schema):
    id: UUID
    person_id: UUID
    colour: str
    reasons: list[dict]
    text: str
    contact: str = Field(description="masked; the full contact is revealed by POST …/contact (audited)")
    via: str
    status: str
    outcome_notes: str
    created_at: datetime
    decided_at: datetime | None
    task_id: UUID | None

    @staticmethod
    def resolve_contact(obj) -> str:
        return obj.contact_masked


@router.post(
    "/persons/{person_id}/corrections",
    response={201: CorrectionOut},
    summary="File a correction request (申诉) for a person, e.g. taken by phone",
)
@requires(Perm.HEALTHCODE_VIEW)
def file_correction(request, person_id: UUID, payload: CorrectionIn):
    person = get_visible_or_404(request.auth, Person.objects.all(), pk=person_id)
    item = services.request_correction(
        actor=Actor.from_api(request), person=person, text=payload.text, contact=payload.contact, via="staff"
    )
    return Status(201, item)


@router.get("/corrections", response=list[CorrectionOut], summary="Correction requests in your scope")
@requires(Perm.HEALTHCODE_REVIEW)
def list_corrections(request, status: Literal["open", "corrected", "rejected", "any"] = "open"):
    qs = visible_to(request.auth, CorrectionRequest.objects.all())
    if status != "any":
        qs = qs.filter(status=status)
    return list(qs.order_by("created_at")[:500])


class ContactOut(Schema):
    contact: str


@router.post(
    "/corrections/{request_id}/contact",
    response=ContactOut,
    summary="Reveal the contact the person left on a correction request (audited)",
)
@requires(Perm.HEALTHCODE_REVIEW)
def reveal_correction_contact(request, request_id: UUID):
    item = get_visible_or_404(request.auth, CorrectionRequest.objects.all(), pk=request_id)
    return {"contact": reveal_contact(actor=Actor.from_api(request), request=item)}


class DecisionIn(Schema):
    outcome: Literal["corrected", "rejected"]
    notes: str = Field(min_length=4, max_length=2000)


@router.post(
    "/corrections/{request_id}/decision", response=CorrectionOut, summary="Record a reviewer's outcome"
)
@requires(Perm.HEALTHCODE_REVIEW)
def decide_correction(request, request_id: UUID, payload: DecisionIn):
    item = get_visible_or_404(request.auth, CorrectionRequest.objects.all(), pk=request_id)
    return services.decide_correction(
        actor=Actor.from_api(request),
        request=item,
        outcome=payload.outcome,
        notes=payload.notes,
        at=timezone.now(),
    )
