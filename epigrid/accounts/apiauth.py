"""How API operations authenticate and declare access.

Machine clients send `Authorization: Bearer egt_…`; browsers calling the API use their
session (with CSRF). Every operation is marked with `@requires(perm)` or `@public_operation`;
`tests/accounts/test_url_walk.py` fails on an operation with neither.
"""

import functools

from django.contrib.auth.models import AnonymousUser
from ninja.security import APIKeyCookie, HttpBearer

from epigrid.accounts.roles import permissions_of
from epigrid.accounts.services import user_for_token
from epigrid.lib.errors import Forbidden


class TokenAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        request.epigrid_via = "api"
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; CSRF-checked on unsafe methods.

    Only a signed-in session is judged here, and never a request that sent a bearer token: a
    client whose token is bad, revoked or expired gets 401 (from the token), not the session's
    CSRF refusal, which would tell it to fetch a CSRF token it has no use for."""

    param_name = "sessionid"

    def __init__(self):
        super().__init__(csrf=True)

    def __call__(self, request):
        if request.headers.get("Authorization", "").lower().startswith("bearer"):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request, key):
        user = getattr(request, "user", None) or AnonymousUser()
        if user.is_authenticated and user.is_active:
            request.epigrid_via = "web"
            return user
        return None


AUTH = [TokenAuth(), SessionAuth()]


def requires(*perms: str):
    def decorate(func):
        @functools.wraps(func)
        def wrapper(request, *args, **kwargs):
            user = request.auth
            missing = set(perms) - permissions_of(getattr(user, "role", ""))
            if missing:
                raise Forbidden("permission_denied", "Your role does not allow this operation.")
            return func(request, *args, **kwargs)

        wrapper.epigrid_access = "scoped"
        wrapper.epigrid_perms = perms
        return wrapper

    return decorate


def public_operation(func):
    func.epigrid_access = "public"
    return func
