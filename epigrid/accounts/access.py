"""Every URL says whether it is public or scoped; undeclared ones are refused.

`@public` marks a page anyone may open (declaration form, sampling points, login). `@scoped()`
requires a logged-in, active user and, optionally, permissions from the role table; objects
inside the view still go through `visible_to`, so out-of-scope objects are 404s there.
`AccessMiddleware` answers 404 for any view that carries neither mark (fail closed), and
`tests/accounts/test_url_walk.py` fails the build on one.
"""

import functools
import logging

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from epigrid.accounts.roles import permissions_of

log = logging.getLogger(__name__)

PUBLIC = "public"
SCOPED = "scoped"
API = "api"  # django-ninja views: each operation declares its own access (see epigrid.api)


def public(view):
    view.epigrid_access = PUBLIC
    return view


def scoped(*perms: str):
    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active:
                raise Http404
            missing = set(perms) - permissions_of(user.role)
            if missing:
                # a role without the power sees a refusal, not the object: no scope leak
                log.warning(
                    "permission denied: user=%s role=%s missing=%s", user.pk, user.role, sorted(missing)
                )
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.epigrid_access = SCOPED
        wrapper.epigrid_perms = tuple(perms)
        return wrapper

    return decorate


def mark_api(view):
    view.epigrid_access = API
    return view


def declared_access(view) -> str | None:
    func = getattr(view, "view_class", None) or view
    access = getattr(view, "epigrid_access", None) or getattr(func, "epigrid_access", None)
    return access


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if declared_access(view_func) is None:
            log.error("undeclared view refused: %s", getattr(view_func, "__qualname__", view_func))
            raise Http404
        return None
