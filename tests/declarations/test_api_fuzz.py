"""Schemathesis drives the declarations operations as the roles that can reach their logic (the
whole-API test in tests/api signs in as a command, which most of these refuse with a 403): no
generated input may produce a 5xx, and every error has the house shape."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application()).include(
    path_regex=r"^/api/v1/declarations"
)


@pytest.fixture
def no_connection_closing():
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["grid_worker", "data_team"])
def bearer(request, persona, make_person, no_connection_closing):
    from epigrid.accounts.audit import Actor
    from epigrid.accounts.services import create_token

    grid = "320583001001001"
    user = persona(request.param, prefixes=[grid] if request.param == "grid_worker" else None)
    make_person(grid, name="样本")
    _, secret = create_token(actor=Actor.system("test"), user=user, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_declarations_api(case, bearer):
    from django.core.cache import cache

    cache.clear()
    response = case.call(headers=bearer)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    if response.status_code >= 400:
        assert "json" in str(response.headers.get("content-type")), (case.method, case.formatted_path)
        assert {"code", "message", "field"} <= set(response.json()), response.text[:300]
