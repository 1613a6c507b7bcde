"""`healthcode verify`, driven through main() with a key file on disk."""

import io
import json
from datetime import timedelta

import pytest

from epigrid.healthcode.cli import main
from epigrid.healthcode.keylists import PublicKeyList

from .conftest import T0, TTL

AT = "2024-05-01T08:01:00Z"


@pytest.fixture
def key_file(tmp_path, js_keys):
    path = tmp_path / "cn-32.json"
    path.write_text(js_keys.to_json(), encoding="utf-8")
    return str(path)


def run(argv, stdin=""):
    out = io.StringIO()
    status = main(argv, io.StringIO(stdin), out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_verifies_a_token_given_as_argument(key_file, js_old):
    status, lines = run(["verify", js_old.issue("yellow"), "--keys", key_file, "--at", AT])

    assert status == 0
    assert lines == [
        {
            "valid": True,
            "reason": "ok",
            "colour": "yellow",
            "issuer": "CN-32",
            "kid": js_old.kid.hex(),
            "expires": "2024-05-01T08:10:00Z",
        }
    ]


def test_it_verifies_one_token_per_stdin_line(key_file, js_old):
    stdin = f"{js_old.issue()}\r\n\nnot a token\n{js_old.issue('red', issued_at=T0 - TTL)}\n"

    status, lines = run(["verify", "--keys", key_file, "--at", AT], stdin)

    assert status == 1
    assert [(line["valid"], line["reason"], line["colour"]) for line in lines] == [
        (True, "ok", "green"),
        (False, "malformed", None),
        (False, "expired", "red"),
    ]


def test_it_trusts_every_key_file_given(tmp_path, key_file, zj):
    zj_file = tmp_path / "cn-33.json"
    zj_file.write_text(PublicKeyList("CN-33", [zj.public]).to_json(), encoding="utf-8")
    token = zj.issue()

    only_js = run(["verify", token, "--keys", key_file, "--at", AT])
    both = run(["verify", token, "--keys", key_file, "--keys", str(zj_file), "--at", AT])

    assert only_js == (1, [{**only_js[1][0], "reason": "untrusted_issuer"}])
    assert both[0] == 0


def test_it_reads_the_time_with_its_offset(key_file, js_old):
    # 16:11 in Beijing is 08:11 UTC, a minute after the token expired
    status, lines = run(["verify", js_old.issue(), "--keys", key_file, "--at", "2024-05-01T16:11:00+08:00"])

    assert (status, lines[0]["reason"]) == (1, "expired")


def test_it_uses_the_current_time_without_at(key_file, js_new, clock):
    token = js_new.issue(issued_at=clock.now - timedelta(minutes=1))

    status, lines = run(["verify", token, "--keys", key_file])

    assert (status, lines[0]["reason"]) == (0, "ok")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "HCT1:X"], "--keys"),
        (["verify", "HCT1:X", "--keys", "/nonexistent/keys.json"], "cannot read key file"),
        (["verify", "HCT1:X", "--keys", "{key_file}", "--at", "2024-05-01T08:00:00"], "UTC offset"),
        (["verify", "HCT1:X", "--keys", "{key_file}", "--at", "noon"], "ISO-8601"),
        (["sign"], "invalid choice"),
        ([], "required"),
    ],
)
def test_it_exits_2_on_a_usage_error(key_file, capsys, argv, message):
    argv = [arg.replace("{key_file}", key_file) for arg in argv]

    status, lines = run(argv)

    assert (status, lines) == (2, [])
    assert message in capsys.readouterr().err


def test_it_exits_2_on_a_broken_key_file(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text('{"issuer": "CN-32", "keys": [{"alg": "RS256"}]}', encoding="utf-8")

    assert run(["verify", "HCT1:X", "--keys", str(path)]) == (2, [])
    assert "bad key file" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["verify", "--help"], io.StringIO(), io.StringIO()) == 0
    assert "--keys" in capsys.readouterr().out
