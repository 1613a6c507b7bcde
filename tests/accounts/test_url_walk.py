"""Every URL and every API operation is declared public or scoped; an undeclared one fails the
build here and is refused (404) at run time."""

from django.urls import URLPattern, URLResolver, get_resolver

from epigrid.accounts.access import API, PUBLIC, SCOPED, declared_access
from epigrid.api import api

# Pages anyone may open. Adding to this list is a decision a reviewer should see.
EXPECTED_PUBLIC_PAGES = {
    "accounts:login",
    "accounts:logout",
    "web:set_language",
    "web:healthz",
    "web:my_status",
    "web:home",
    "healthcode:my_code",
    "healthcode:my_correction",
    "healthcode:keys",
    "healthcode:trust",
    "declarations:public_declare",
    "declarations:public_declared",
    "declarations:public_tip",
    "declarations:public_tip_sent",
    "regions:risk_public",
    "testing:public_points",
    # the venue code's scan page (扫场所码亮码): the person is known by their private link
    "venues:door",
    "venues:door_shown",
}
EXPECTED_PUBLIC_OPERATIONS = {"list_divisions", "get_division", "list_risk_areas", "list_points"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry.callback


def test_every_url_is_declared():
    undeclared, public = [], set()
    for route, name, view in _walk(get_resolver().url_patterns):
        access = declared_access(view)
        if access is None:
            undeclared.append(route)
        elif access == PUBLIC:
            public.add(name)
        else:
            assert access in (SCOPED, API), route
    assert undeclared == []
    assert public == EXPECTED_PUBLIC_PAGES


def test_every_api_operation_is_declared():
    undeclared, public = [], set()
    # the bound routers hold the operations as served, with the API's default auth applied
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                access = getattr(operation.view_func, "epigrid_access", None)
                if access is None:
                    undeclared.append(operation.view_func.__name__)
                elif access == "public":
                    public.add(operation.view_func.__name__)
                    assert not operation.auth_callbacks, operation.view_func.__name__
                else:
                    assert operation.auth_callbacks, (
                        f"{operation.view_func.__name__} is scoped but has no auth"
                    )
    assert undeclared == []
    assert public == EXPECTED_PUBLIC_OPERATIONS


def test_an_undeclared_view_is_refused(rf, settings):
    from django.http import HttpResponse

    from epigrid.accounts.access import AccessMiddleware

    def naked(request):
        return HttpResponse("should not be served")

    middleware = AccessMiddleware(lambda r: HttpResponse())
    import pytest
    from django.http import Http404

    with pytest.raises(Http404):
        middleware.process_view(rf.get("/x"), naked, (), {})


def test_signed_out_users_are_sent_to_sign_in(client, world):
    for url in ["/people/", "/units/", "/regions/", "/accounts/audit/", "/accounts/tokens/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    assert client.get("/api/v1/persons").status_code == 401
    assert client.get("/api/v1/divisions").status_code == 200
