"""Schemathesis drives every operation of the OpenAPI schema with generated input, signed in
with an API token: no input may produce a 5xx, and every error has the house shape."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def no_connection_closing():
    """Django closes the database connection at the end of each WSGI request; the test's
    transaction must outlive the requests schemathesis sends straight to the WSGI app."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(persona, make_person, no_connection_closing):
    from epigrid.accounts.audit import Actor
    from epigrid.accounts.services import create_token

    user = persona("county_command")
    make_person("320583001001001", name="样本")
    _, secret = create_token(actor=Actor.system("test"), user=user, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_breaks_the_api(case, bearer):
    response = case.call(headers=bearer)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    if response.status_code >= 400:
        assert "json" in str(response.headers.get("content-type")), (
            case.method,
            case.formatted_path,
            response.status_code,
            response.text[:300],
            case.headers,
            case.query,
        )
        body = response.json()
        assert {"code", "message", "field"} <= set(body), body
