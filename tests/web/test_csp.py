"""A Content-Security-Policy on every response, with no inline script anywhere to need an
exception, and HSTS in production (issue 10.10d)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

import epigrid

TEMPLATES = sorted(Path(epigrid.__file__).parent.glob("*/templates/**/*.html"))
ANY_UUID = "00000000-0000-4000-8000-000000000000"


def _policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.status_code} without a Content-Security-Policy"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_strict(response) -> None:
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in sum(policy.values(), [])


def _routes(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _concrete(route: str) -> str:
    """A URL for the route: a UUID or a word where it takes a parameter."""
    route = route.lstrip("^").rstrip("$")

    def fill(match):
        converter = match.group(1) or "str"
        return {"uuid": ANY_UUID, "uuidstr": ANY_UUID, "int": "1"}.get(converter, "x")

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", fill, route)


def test_every_page_carries_the_policy(persona, world):
    staff = Client()
    staff.force_login(persona("admin", prefixes=["32"]))
    anonymous = Client()
    urls = sorted({_concrete(r) for r in _routes(get_resolver().url_patterns) if "(?P" not in r})
    assert len(urls) > 80
    for url in urls:
        for client in (staff, anonymous):
            _assert_strict(client.get(url))
    # and what the framework answers by itself: a 404, a static file, an API error
    _assert_strict(anonymous.get("/no/such/page/"))
    _assert_strict(anonymous.get("/static/web/epigrid.css"))
    _assert_strict(anonymous.get("/api/v1/persons"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_no_template_has_inline_script_or_an_event_handler_attribute(template):
    text = template.read_text()
    inline = [m.group(0) for m in re.finditer(r"<script\b(?![^>]*\bsrc=)[^>]*>", text)]
    handlers = re.findall(r"<[^>]*\son[a-z]+\s*=", text)
    assert inline == [] and handlers == [] and "javascript:" not in text


def test_htmx_is_told_to_need_no_eval_and_no_inline_style():
    base = next(t for t in TEMPLATES if t.as_posix().endswith("web/templates/web/base.html")).read_text()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', base).group(1))
    assert config == {"allowEval": False, "includeIndicatorStyles": False, "allowScriptTags": False}


def _production(code: str, tmp_path) -> str:
    env = {
        **os.environ,
        "EPIGRID_ENV": "production",
        "EPIGRID_SECRET_KEY": "s" * 50,
        "EPIGRID_DATA_KEY": "d" * 43,
        "EPIGRID_ALLOWED_HOSTS": "testserver",
        "EPIGRID_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "epigrid.settings",
    }
    env.pop("EPIGRID_DATABASE_URL", None)
    script = "import django; django.setup()\nfrom django.test import Client\n" + code
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_production_sends_hsts_over_https_and_redirects_plain_http(tmp_path):
    out = _production(
        "secure = Client().get('/healthz', secure=True)\n"
        "print(secure.status_code, secure.get('Strict-Transport-Security'))\n"
        "plain = Client().get('/accounts/login/')\n"
        "print(plain.status_code, plain.get('Location'))\n"
        "probe = Client().get('/healthz')\n"
        "print(probe.status_code)\n",
        tmp_path,
    ).split("\n")
    assert out[0] == "200 max-age=31536000"
    assert out[1] == "301 https://testserver/accounts/login/"
    assert out[2] == "200"  # the load balancer's probe over the inside network


def test_hsts_stays_off_outside_production(client, db):
    assert "Strict-Transport-Security" not in client.get("/healthz", secure=True)
