"""The HTTP API under /api/v1 (django-ninja): routers from each app, one error shape.

Every error is `{"code", "message", "field"}` with a 4xx status; a 422 adds `errors`, every
problem found (`apierrors`); bad input never reaches a 500. OpenAPI at /api/v1/openapi.json,
docs at /api/v1/docs.
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from epigrid import apierrors
from epigrid.accounts.access import mark_api
from epigrid.accounts.apiauth import AUTH
from epigrid.lib.errors import DomainError

log = logging.getLogger(__name__)


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="epigrid API",
        version="1",
        description="Information system of an epidemic command. Errors are JSON {code, message, field}.",
        auth=AUTH,
        urls_namespace="api",
        docs_url="/docs",
    )

    def respond(request, status, code, message, field=None):
        return api.create_response(request, {"code": code, "message": message, "field": field}, status=status)

    @api.exception_handler(ValidationError)
    def on_validation(request, exc: ValidationError):
        errors = apierrors.from_validation(exc.errors) or [apierrors.item([], "invalid", "Invalid input.")]
        body = apierrors.invalid("invalid", errors[0]["message"], errors)
        return api.create_response(request, body, status=422)

    @api.exception_handler(DomainError)
    def on_domain(request, exc: DomainError):
        # {code, message, field}, and `errors` with every one when the input had several
        return api.create_response(request, exc.as_dict(), status=exc.status)

    @api.exception_handler(AuthenticationError)
    def on_auth(request, exc):
        return respond(request, 401, "unauthenticated", _("Sign in or send a valid API token."))

    @api.exception_handler(HttpError)
    def on_http(request, exc: HttpError):
        return respond(request, exc.status_code, f"http_{exc.status_code}", exc.message)

    @api.exception_handler(Http404)
    def on_404(request, exc):
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request, exc):
        return respond(
            request, 413, "too_large", _("The request body is too large; send fewer rows per call.")
        )

    @api.exception_handler(PermissionDenied)
    def on_denied(request, exc):
        return respond(request, 403, "permission_denied", _("Your role does not allow this operation."))

    @api.exception_handler(Exception)
    def on_error(request, exc):
        log.exception(
            "api error on %s %s",
            request.method,
            request.resolver_match.route if request.resolver_match else "",
        )
        return respond(request, 500, "server_error", _("The server failed; the error was logged."))

    from epigrid.accounts.api import router as accounts_router
    from epigrid.declarations.api import router as declarations_router
    from epigrid.healthcode.api import router as healthcode_router
    from epigrid.people.api import router as people_router
    from epigrid.regions.api import router as regions_router
    from epigrid.rules.api import router as rules_router
    from epigrid.tasks.api import router as tasks_router
    from epigrid.testing.api import router as testing_router
    from epigrid.units.api import router as units_router
    from epigrid.venues.api import router as venues_router

    # health codes first, for the same reason as the API's place in epigrid/urls.py
    api.add_router("/healthcode", healthcode_router)
    api.add_router("/", accounts_router)
    api.add_router("/divisions", regions_router)
    api.add_router("/persons", people_router)
    api.add_router("/units", units_router)
    api.add_router("/tasks", tasks_router)
    api.add_router("/rules", rules_router)
    api.add_router("/declarations", declarations_router)
    api.add_router("/testing", testing_router)
    api.add_router("/venues", venues_router)
    return api


api = build_api()


def api_urls():
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if hasattr(pattern, "callback"):
            mark_api(pattern.callback)
    return patterns, app_name, namespace


class JsonErrorsMiddleware:
    """Errors that Django raises before django-ninja sees the request (405 for a method the
    route lacks, a CSRF refusal, an oversized body) still leave the API as `{code, message,
    field}`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and "json" not in response.get("Content-Type", "")
        ):
            from django.http import JsonResponse

            replacement = JsonResponse(
                {"code": f"http_{response.status_code}", "message": response.reason_phrase, "field": None},
                status=response.status_code,
            )
            for header in ("Allow", "Retry-After"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response
