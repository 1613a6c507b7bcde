"""`dcc verify`: the function, the management command and the real console script."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from epigrid.testing.dcc.cli import main
from tests.testing.dcc_support import needs_vectors, vector_at

AT = "2021-06-16T12:50:02Z"


def _naat_test():
    return vector_at("SE/2DCode/raw/3.json")  # valid NAAT test at its clock


def _vaccination():
    return vector_at("SE/2DCode/raw/1.json")  # same signer, valid at the same clock


@pytest.fixture
def trust_file(tmp_path: Path) -> Path:
    path = tmp_path / "signers.pem"
    body = base64.encodebytes(_naat_test().certificate_der).decode()
    path.write_text(f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n")
    return path


def _run(argv, lines):
    stdin, stdout, stderr = io.StringIO("".join(line + "\n" for line in lines)), io.StringIO(), io.StringIO()
    code = main(argv, stdin, stdout, stderr)
    return code, [json.loads(line) for line in stdout.getvalue().splitlines()], stderr.getvalue()


@needs_vectors
def test_one_json_line_per_qr_text(trust_file):
    naat_test = _naat_test()
    tampered = naat_test.qr_text[:-6] + "ABCDEF"
    code, outputs, _ = _run(
        ["verify", "--trust", str(trust_file), "--at", AT],
        [naat_test.qr_text, "", _vaccination().qr_text + "\r", tampered, "HC2:nonsense"],
    )
    assert code == 1  # one or more were not valid
    assert [(out["valid"], out["failed_stage"], out["kind"]) for out in outputs] == [
        (True, None, "test"),
        (True, None, "vaccination"),
        (False, outputs[2]["failed_stage"], outputs[2]["kind"]),
        (False, "prefix", None),
    ]
    assert outputs[2]["failed_stage"] in {"base45", "zlib", "cose", "signature"}
    first = outputs[0]
    assert first["certificate"]["t"][0]["tt"] == "LP6464-4"
    assert first["issuer"] == "SE"
    assert first["kid"] == base64.b64encode(naat_test.trust.signers[0].kid).decode()
    assert first["expires"].startswith("20")
    assert set(first) >= {
        "valid",
        "failed_stage",
        "kind",
        "certificate",
        "issuer",
        "kid",
        "expires",
        "reason",
    }


@needs_vectors
def test_all_valid_exits_zero(trust_file):
    code, outputs, _ = _run(["verify", "--trust", str(trust_file), "--at", AT], [_naat_test().qr_text])
    assert (code, len(outputs)) == (0, 1)


@needs_vectors
def test_time_without_zone_is_utc_and_time_matters(trust_file):
    code, outputs, _ = _run(
        ["verify", "--trust", str(trust_file), "--at", "2031-01-01T00:00:00"], [_naat_test().qr_text]
    )
    assert code == 1
    assert outputs[0]["failed_stage"] == "expiry"


@needs_vectors
def test_keep_going_reports_every_stage(trust_file):
    _, outputs, _ = _run(
        ["verify", "--trust", str(trust_file), "--at", "2031-01-01", "--keep-going"], [_naat_test().qr_text]
    )
    assert outputs[0]["stages"]["key_usage"] == "ok"
    assert outputs[0]["stages"]["expiry"] == "failed"


@needs_vectors
def test_several_trust_files(tmp_path, trust_file):
    other = tmp_path / "other.b64"
    other.write_text(vector_at("CH/2DCode/raw/2.json").context["CERTIFICATE"] + "\n")
    swiss = vector_at("CH/2DCode/raw/2.json")
    code, outputs, _ = _run(
        ["verify", "--trust", str(trust_file), "--trust", str(other), "--at", "2021-08-18T16:36:53+02:00"],
        [swiss.qr_text],
    )
    assert (code, outputs[0]["valid"]) == (0, True)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["verify"],
        ["verify", "--trust", "/nonexistent/signers.pem"],
        ["verify", "--trust", "X", "--at", "soon"],
    ],
)
def test_usage_errors(argv):
    code, outputs, error = _run(argv, ["HC1:never-read"])
    assert (code, outputs) == (2, [])
    assert error.startswith("dcc: ")


@needs_vectors
def test_management_command(trust_file):
    stdout = io.StringIO()
    call_command(
        "dcc",
        "verify",
        "--trust",
        str(trust_file),
        "--at",
        AT,
        stdin=io.StringIO(_naat_test().qr_text),
        stdout=stdout,
    )
    assert json.loads(stdout.getvalue())["valid"] is True
    with pytest.raises(CommandError):
        call_command(
            "dcc", "verify", "--trust", str(trust_file), stdin=io.StringIO("HC1:0"), stdout=io.StringIO()
        )


@needs_vectors
def test_console_script(trust_file):
    epigrid = Path(sys.executable).parent / "epigrid"
    completed = subprocess.run(
        [str(epigrid), "dcc", "verify", "--trust", str(trust_file), "--at", AT],
        input=f"{_naat_test().qr_text}\nHC1:garbage\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    outputs = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [(out["valid"], out["kind"]) for out in outputs] == [(True, "test"), (False, None)]
    assert outputs[0]["certificate"]["nam"]["fn"] == "Lövström"
