"""verify.js in Debian's chromium must reach the same verdict as Python on the same tokens."""

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import epigrid.healthcode
from epigrid.healthcode.keylists import PublicKeyList
from epigrid.healthcode.tokens import PREFIX, b45decode, b45encode, verify

from .conftest import T0
from .test_reasons import ROWS

VERIFY_JS = Path(epigrid.healthcode.__file__).parent / "static" / "healthcode" / "verify.js"
PAGE = b"""<!doctype html><meta charset="utf-8"><title>verify.js</title>
<script type="module">
import * as healthcode from "/static/healthcode/verify.js";
window.healthcode = healthcode;
window.healthcodeReady = true;
</script>
"""

RUN_IN_PAGE = """async ({docs, cases}) => {
  const hc = window.healthcode;
  const trust = await hc.loadTrustList(...docs);
  const verdicts = [];
  for (const c of cases) {
    const r = await hc.verifyToken(c.token, trust, c.at_ms);
    verdicts.push({
      valid: r.valid, reason: r.reason, colour: r.colour, issuer: r.issuer, kid: r.kid,
      code_id: r.codeId,
      issued_at: r.issuedAt && r.issuedAt.getTime() / 1000,
      expires: r.expires && r.expires.getTime() / 1000,
    });
  }
  let conflict = null;
  try {
    const clash = structuredClone(docs[0]);
    clash.keys[0].public_key = clash.keys[1].public_key;
    await hc.loadTrustList(docs[0], clash);
  } catch (error) {
    conflict = String(error.message);
  }
  let badTime = null;
  try {
    await hc.verifyToken(cases[0].token, trust, NaN);
  } catch (error) {
    badTime = error.name;
  }
  return {verdicts, conflict, badTime, reasons: Object.values(hc.Reason)};
}"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server dispatches on
        if self.path == "/":
            body, kind = PAGE, "text/html; charset=utf-8"
        elif self.path == "/static/healthcode/verify.js":
            body, kind = VERIFY_JS.read_bytes(), "text/javascript; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server():
    # http://127.0.0.1 counts as a secure context, which WebCrypto requires
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _python_verdict(token, trust, at):
    r = verify(token, trust, at)
    return {
        "valid": r.valid,
        "reason": str(r.reason),
        "colour": None if r.colour is None else str(r.colour),
        "issuer": r.issuer,
        "kid": r.kid,
        "code_id": None if r.code_id is None else r.code_id.hex(),
        "issued_at": None if r.issued_at is None else r.issued_at.timestamp(),
        "expires": None if r.expires is None else r.expires.timestamp(),
    }


def _mutations(token, count, seed=20240501):
    """Deterministic random damage to a good token: the two verifiers must agree on each."""
    rng = random.Random(seed)
    raw = b45decode(token[len(PREFIX) :])
    out = []
    for _ in range(count):
        damaged = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        out.append(PREFIX + b45encode(bytes(damaged)))
        text = list(token)
        text[rng.randrange(len(text))] = rng.choice("0123456789ABCXYZ $%*+-./:a~é")
        out.append("".join(text))
    return out


@pytest.mark.browser
def test_verify_js_agrees_with_python_in_chromium(server, env, trust, js_keys, zj, browser):
    cases = [(row[1](env), row[2]) for row in ROWS]
    cases += [(token, T0) for token in _mutations(env.js_old.issue("red"), 60)]
    cases += [(None, T0), ("HCT1:健康码", T0), (env.js_old.issue() + " ", T0)]
    expected = [_python_verdict(token, trust, at) for token, at in cases]
    # one key list and one trust list document, as a checkpoint would download them
    docs = [js_keys.to_dict(), {"issuers": [PublicKeyList("CN-33", [zj.public]).to_dict()]}]
    payload = {"docs": docs, "cases": [{"token": t, "at_ms": at.timestamp() * 1000} for t, at in cases]}

    # Debian's chromium, launched once per session by the shared `browser` fixture
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server)
        page.wait_for_function("window.healthcodeReady === true")
        result = page.evaluate(RUN_IN_PAGE, payload)
    finally:
        context.close()

    assert {row[3] for row in ROWS} <= set(result["reasons"])
    mismatches = [
        (i, cases[i][0], want, got)
        for i, (want, got) in enumerate(zip(expected, result["verdicts"], strict=True))
        if want != got
    ]
    assert mismatches == []
    assert sum(v["valid"] for v in expected) == sum(row[3] == "ok" for row in ROWS)
    assert "twice" in result["conflict"]
    assert result["badTime"] == "TypeError"
