"""In Debian's chromium: a person's code page, the token pasted into the checkpoint's scanner
(verified in the browser with verify.js, then online), a change of the person's colour seen by
the scanner's online check, a photo of the QR decoded with jsQR, and the camera path with
chromium's fake camera showing the QR."""

import shutil
import subprocess
from pathlib import Path

import pytest

import epigrid.healthcode
from epigrid.accounts.audit import Actor
from epigrid.healthcode import tokens
from epigrid.people.services import create_private_link
from epigrid.rules.facts import ContactStatus
from tests.conftest import screenshot as full_page_screenshot

from .conftest import GRID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APP = Path(epigrid.healthcode.__file__).parent
JSQR = APP / "static" / "healthcode" / "vendor" / "jsQR.js"
PASSWORD = "a long enough secret"


@pytest.fixture(scope="module", autouse=True)
def scanner_library():
    """The QR decoder comes from npm at install time (`npm ci --prefix epigrid/healthcode`);
    run that install step here when this checkout has not had it yet."""
    if not JSQR.exists():
        npm = shutil.which("npm")
        assert npm, (
            "npm is missing: the scanner's QR decoder is installed with npm ci --prefix epigrid/healthcode"
        )
        subprocess.run([npm, "ci", "--prefix", str(APP), "--no-audit", "--no-fund"], check=True, timeout=300)
    assert JSQR.exists()


def screenshot(page, name):
    # the top bar is sticky: from the top, a full-page picture shows it where it belongs
    page.evaluate("window.scrollTo(0, 0)")
    return full_page_screenshot(page, name)


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def scanned(page):
    page.wait_for_selector("#hc-result[data-online]:not([data-online=''])")
    result = page.locator("#hc-result")
    return {
        "class": result.get_attribute("class"),
        "reason": result.get_attribute("data-reason"),
        "token_colour": result.get_attribute("data-token-colour"),
        "online": result.get_attribute("data-online"),
        "current": result.get_attribute("data-current-colour"),
        "text": page.locator("#hc-result-colour").inner_text(),
    }


def test_it_checks_a_code_from_the_code_page_and_sees_a_colour_change(
    live_server, page, make_person, persona, facts, assess, clock
):
    person = make_person(GRID, name="吴磊")
    link = create_private_link(actor=Actor.system("test"), person=person)
    persona("checkpoint", prefixes=["3205"], username="station-1", password=PASSWORD)

    page.goto(f"{live_server.url}/healthcode/me/{link}/")
    card = page.locator("#code-card")
    assert card.get_attribute("data-colour") == "green"
    assert page.locator("#code-card svg").count() == 1
    token = page.locator("#code-token").text_content().strip()
    assert token.startswith("HCT1:")
    screenshot(page, "healthcode-my-code-green")

    sign_in(page, live_server.url, "station-1")
    page.goto(f"{live_server.url}/healthcode/scan/")
    page.wait_for_selector("#hc-scanner[data-keys-ready=true]")
    page.fill("#hc-token-input", token)
    page.click("#hc-verify")
    first = scanned(page)
    assert first == {
        "class": "hc-result green",
        "reason": "ok",
        "token_colour": "green",
        "online": "current",
        "current": "green",
        "text": "绿码",
    }
    # checkpoint staff see the colour, never the name
    assert "吴磊" not in page.content()
    screenshot(page, "healthcode-scanner-green")

    # the person becomes a close contact: the same code, scanned again, is reported stale
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    page.click("#hc-verify")
    page.wait_for_selector("#hc-result[data-online=stale]")
    second = scanned(page)
    assert second["token_colour"] == "green" and second["reason"] == "ok"  # offline: still a good signature
    assert (second["online"], second["current"], second["class"], second["text"]) == (
        "stale",
        "red",
        "hc-result red",
        "红码",
    )
    assert "吴磊" not in page.content()
    screenshot(page, "healthcode-scanner-stale-red")

    # a tampered code is refused in the browser before any online answer
    raw = bytearray(tokens.b45decode(token[len(tokens.PREFIX) :]))
    raw[1] ^= 0x02  # green turned red by hand
    page.fill("#hc-token-input", tokens.PREFIX + tokens.b45encode(bytes(raw)))
    page.click("#hc-verify")
    page.wait_for_selector("#hc-result[data-reason=bad_signature]")
    assert page.locator("#hc-result").get_attribute("class") == "hc-result invalid"
    screenshot(page, "healthcode-scanner-tampered")


def test_a_grid_worker_scans_a_photo_and_gets_the_reasons_in_english(
    live_server, browser, make_person, persona, facts, assess, tmp_path, clock
):
    person = make_person(GRID, name="郑洁")
    now = clock.now
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    assess(person, cause="case")
    link = create_private_link(actor=Actor.system("test"), person=person)
    persona("grid_worker", prefixes=[GRID], username="gw-scan", password=PASSWORD)
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}/healthcode/me/{link}/")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Red code" in page.locator("#code-card").inner_text()
        assert "Close contact of a case" in page.content()
        token = page.locator("#code-token").text_content().strip()
        screenshot(page, "healthcode-my-code-red-en")

        photo = tmp_path / "code.png"
        photo.write_bytes(tokens.render_png(token, scale=6))
        sign_in(page, live_server.url, "gw-scan")
        page.goto(f"{live_server.url}/healthcode/scan/")
        page.wait_for_selector("#hc-scanner[data-keys-ready=true]")
        page.set_input_files("#hc-photo", str(photo))
        result = scanned(page)
        assert (result["token_colour"], result["online"], result["current"]) == ("red", "current", "red")
        assert page.locator("#hc-token-input").input_value() == token
        # staff who may view the person see who it is and why
        details = page.locator("#hc-result-details").inner_text()
        assert "郑洁" in details and "colour/close-contact" in details and "NA182-3" in details
        screenshot(page, "healthcode-scanner-photo-en")
    finally:
        context.close()


def _y4m(token: str, path: Path, width=640, height=480, frames=5) -> None:
    """A still video of the QR for chromium's fake camera (YUV4MPEG2, 4:2:0, grey)."""
    qr = tokens.make_qr(token)
    rows = [list(row) for row in qr.matrix]
    border, scale = 4, 8
    size = (len(rows) + 2 * border) * scale
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray([235]) * (width * height)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + (y + border) * scale + dy) * width + left + (x + border) * scale
                    luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * ((width // 2) * (height // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


def test_the_camera_reads_the_code(live_server, browser, make_person, persona, assess, tmp_path):
    person = make_person(GRID, name="钱红")
    assess(person)
    from epigrid.healthcode.services.codes import ensure_code
    from epigrid.healthcode.services.issuing import issue_token

    token = issue_token(ensure_code(person)).token
    video = tmp_path / "qr.y4m"
    _y4m(token, video)
    persona("checkpoint", prefixes=["3205"], username="station-cam", password=PASSWORD)

    # a second chromium from the session's Playwright, with a fake camera filming the QR
    camera_browser = browser.browser_type.launch(
        executable_path=shutil.which("chromium"),
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera_browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        context.grant_permissions(["camera"], origin=live_server.url)
        page = context.new_page()
        page.set_default_timeout(20_000)
        sign_in(page, live_server.url, "station-cam")
        page.goto(f"{live_server.url}/healthcode/scan/")
        page.wait_for_selector("#hc-scanner[data-keys-ready=true]")
        page.click("#hc-camera")
        page.wait_for_selector("#hc-scanner[data-camera-running=true]")
        result = scanned(page)
        assert (result["reason"], result["token_colour"], result["online"]) == ("ok", "green", "current")
        screenshot(page, "healthcode-scanner-camera")
    finally:
        camera_browser.close()
