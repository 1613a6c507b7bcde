"""No personal data in logs: nothing with a query string reaches a log line, where a searched
phone number travels (`/people/?q=…`, a login's `next=`, a referer) (issue 10.8)."""

import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client

PHONE = "13812345678"


@pytest.fixture
def log_lines():
    """Every record any logger makes, at every level, as the configured formatter writes it."""
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    lines: list[str] = []
    original = logging.Logger.handle

    def handle(self, record):
        lines.append(formatter.format(record))
        return original(self, record)

    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    levels = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        with mock.patch.object(logging.Logger, "handle", handle):
            yield lines
    finally:
        for logger, level in levels:
            logger.setLevel(level)


def _leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if PHONE in line or PHONE[3:] in line]


def test_it_leaves_no_query_string_in_any_log_line(log_lines, persona, client_for, make_person, db):
    make_person("320583001001001", phone=PHONE)
    staff = client_for(persona("cdc", prefixes=["3205"]))
    anonymous = Client(raise_request_exception=False)

    assert staff.get("/people/", {"q": PHONE}).status_code == 200
    assert staff.get("/no-such-page/", {"q": PHONE}).status_code == 404
    assert client_for(persona("lab")).get("/people/", {"q": PHONE}).status_code == 403
    login = anonymous.get("/people/", {"q": PHONE})
    assert login.status_code == 302
    failed = anonymous.post(login["Location"], {"username": "nobody", "password": "wrong"})
    assert failed.status_code == 200
    assert (
        anonymous.get("/api/v1/persons", {"q": PHONE}, HTTP_AUTHORIZATION="Bearer egt_no").status_code == 401
    )
    with mock.patch("epigrid.people.services.search", side_effect=RuntimeError("boom")):
        broken = Client(raise_request_exception=False)
        broken.force_login(persona("cdc", prefixes=["3205"]))
        assert broken.get("/people/", {"q": PHONE}).status_code == 500

    assert log_lines, "the requests above log something (a refusal, a login failure, an error)"
    assert _leaks(log_lines) == []


def test_the_lockout_records_keep_no_query_string(persona, db):
    from axes.models import AccessAttempt

    anonymous = Client()
    login = anonymous.get("/people/", {"q": PHONE})
    anonymous.post(login["Location"], {"username": "nobody", "password": "wrong"})

    attempt = AccessAttempt.objects.get()
    assert PHONE not in attempt.get_data and PHONE not in attempt.post_data


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(sys.platform != "linux", reason="gunicorn runs on POSIX")
def test_gunicorn_as_configured_logs_paths_without_their_query_strings(tmp_path):
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:epigrid.gunicorn_conf",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            str(access),
            "--error-logfile",
            str(errors),
            "epigrid.wsgi",
        ],
        # its own SQLite file, whatever database the tests use: /healthz asks the database
        env={
            **{k: v for k, v in os.environ.items() if k != "EPIGRID_DATABASE_URL"},
            "EPIGRID_VAR_DIR": str(tmp_path / "var"),
        },
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/healthz?q={PHONE}",
                    headers={"Referer": f"http://127.0.0.1:{port}/people/?q={PHONE}"},
                )
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    assert response.status == 200
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = access.read_text()
    assert re.search(r'"GET /healthz HTTP/1.1" 200', logged), logged
    assert PHONE not in logged and PHONE not in errors.read_text()


def test_gunicorn_error_lines_lose_the_query_string_of_the_uri(tmp_path):
    from gunicorn.config import Config

    from epigrid import gunicorn_conf

    cfg = Config()
    for name, value in vars(gunicorn_conf).items():
        if name in cfg.settings:
            cfg.set(name, value)
    cfg.set("errorlog", str(tmp_path / "error.log"))
    log = cfg.logger_class(cfg)

    try:
        raise ValueError("the view failed")
    except ValueError:
        log.exception("Error handling request %s", f"/people/?q={PHONE}")
    for handler in log.error_log.handlers:
        handler.flush()
    text = (tmp_path / "error.log").read_text()
    assert "Error handling request /people/" in text and PHONE not in text
