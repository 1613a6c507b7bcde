"""The venue's door scanner offline, in Debian's chromium on a phone viewport (R5.1, R4.2, R4.3):
staff go offline, record three entries (two health codes verified on the phone, one typed ID
number), see them wait in the queue, come back online and the queue uploads once; sending the
same entries again stores nothing twice, and a batch whose answer was lost on the way is sent
again without loss. A green code that turned red after it was shown is caught offline by the
signed colour-change feed."""

import random
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

import epigrid.healthcode
import epigrid.venues
from epigrid.demo.population import IdNumbers
from epigrid.healthcode.services import ensure_code, issue_token
from epigrid.healthcode.tokens import render_png
from epigrid.rules.facts import ContactStatus
from epigrid.venues.models import Entry
from tests.conftest import screenshot as full_page_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough secret"
VENDORED = [
    (Path(epigrid.healthcode.__file__).parent, "static/healthcode/vendor/jsQR.js"),
    (Path(epigrid.venues.__file__).parent, "static/venues/vendor/idb.js"),
]

QUEUE_ENTRIES = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("epigrid-venues-scanner");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction("queue").objectStore("queue").getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  };
})"""

# puts entries back into the queue, as a phone that lost its record of an upload would
REQUEUE = """(entries) => new Promise((resolve, reject) => {
  const open = indexedDB.open("epigrid-venues-scanner");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const tx = open.result.transaction("queue", "readwrite");
    for (const entry of entries) tx.objectStore("queue").put(entry);
    tx.oncomplete = () => resolve(entries.length);
    tx.onerror = () => reject(tx.error);
  };
})"""


@pytest.fixture(scope="module", autouse=True)
def scanner_libraries():
    """jsQR and idb come from npm at install time (`npm ci --prefix epigrid/healthcode` and
    `--prefix epigrid/venues`); run those steps here when this checkout has not had them."""
    for app, asset in VENDORED:
        if not (app / asset).exists():
            npm = shutil.which("npm")
            assert npm, f"npm is missing: the scanner's {asset} is installed with npm ci --prefix {app}"
            subprocess.run(
                [npm, "ci", "--prefix", str(app), "--no-audit", "--no-fund"], check=True, timeout=300
            )
        assert (app / asset).exists()


@pytest.fixture(autouse=True)
def _fresh_trust_cache():
    """The server caches the trust list per process: never across tests' databases (and keys)."""
    from epigrid.healthcode import keys

    keys.invalidate_cache()
    yield
    keys.invalidate_cache()


@pytest.fixture
def facts():
    from epigrid.rules import registry

    data: dict[str, dict] = {}

    def source(persons, at):
        return {str(p.pk): data[str(p.pk)] for p in persons if str(p.pk) in data}

    registry.register_facts_source("test-venue-scanner", source)
    yield data
    registry._FACTS_SOURCES.pop("test-venue-scanner", None)


def screenshot(page, name):
    page.evaluate("window.scrollTo(0, 0)")
    return full_page_screenshot(page, name)


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def queue_length(page) -> int:
    return int(page.locator("#vs-queue-count").get_attribute("data-count"))


def wait_queue(page, n: int):
    page.wait_for_selector(f"#vs-queue-count[data-count='{n}']")


def scan_token(page, token: str):
    page.fill("#vs-token-input", token)
    page.click("#vs-verify")
    page.wait_for_selector("#vs-result[data-reason]:not([data-reason=''])")
    result = page.locator("#vs-result")
    assert result.get_attribute("data-reason") == "ok", result.inner_text()


def record(page, temperature: str | None = None):
    if temperature is not None:
        page.fill("#vs-temperature", temperature)
    before = queue_length(page)
    page.click("#vs-record")
    wait_queue(page, before + 1)


@pytest.fixture
def door(live_server, page, persona, make_venue, make_person, grid_cells):
    staff = persona("checkpoint", prefixes=[], username="door-1", password=PASSWORD)
    venue = make_venue(name="万达广场", staff=[staff])
    sign_in(page, live_server.url, "door-1")
    return venue


def open_scanner(page, base, venue):
    page.goto(f"{base}/venues/{venue.pk}/scan/")
    page.wait_for_selector("#vs-scanner[data-ready=true][data-keys-ready=true]")
    page.wait_for_selector("#vs-scanner[data-feed=loaded]")


def test_it_records_offline_and_uploads_the_queue_once(
    live_server, page, door, make_person, grid_cells, facts, system, clock
):
    venue = door
    number = IdNumbers().make(random.Random(11), "320583", date(1991, 3, 9), "F")
    first = make_person(grid_cells[0].code, name="吴磊")
    second = make_person(grid_cells[0].code, name="郑洁")
    typed = make_person(grid_cells[1].code, name="钱红", number=number, birth=date(1991, 3, 9), sex="F")
    turned = make_person(grid_cells[0].code, name="孙丽")
    tokens = [issue_token(ensure_code(p)).token for p in (first, second)]
    ensure_code(typed)
    # a green code shown, then its holder became a close contact: the feed says so
    stale_green = issue_token(ensure_code(turned)).token
    clock.shift(seconds=2)
    from epigrid.rules.services import reassess

    now = clock.now
    facts[str(turned.pk)] = {"contact": ContactStatus(kind="close", last_exposure=now, identified_at=now)}
    reassess(turned, actor=system, cause="case")
    assert turned.health_code.__class__.objects.get(person=turned).colour == "red"

    context = page.context
    open_scanner(page, live_server.url, venue)
    assert queue_length(page) == 0
    screenshot(page, "venues-scanner-online")

    context.set_offline(True)
    page.wait_for_selector("#vs-scanner[data-online=false]")

    scan_token(page, tokens[0])
    assert page.locator("#vs-result").get_attribute("data-colour") == "green"
    record(page, "36.5")
    scan_token(page, tokens[1])
    page.click(".vs-preset[data-value='36.8']")
    record(page)
    page.fill("#vs-document-input", number)
    page.click("#vs-document-use")
    page.fill("#vs-temperature", "37.8")
    assert page.locator("#vs-temp-warning").is_visible()  # fever, shown before the upload
    screenshot(page, "venues-scanner-offline-fever")
    record(page)

    # the stale green code: verified on the phone, then caught by the colour-change feed
    scan_token(page, stale_green)
    # the token's signature is checked first (data-reason), the feed after it: wait for both
    page.wait_for_selector("#vs-result[data-changed=feed]")
    result = page.locator("#vs-result")
    assert result.get_attribute("data-colour") == "red"
    assert page.locator("#vs-result-colour").inner_text() == "红码"
    assert page.locator("#vs-result-warning").is_visible()
    screenshot(page, "venues-scanner-offline-turned-red")

    assert queue_length(page) == 3
    assert Entry.objects.count() == 0
    queued = page.evaluate(QUEUE_ENTRIES)
    assert len({e["id"] for e in queued}) == 3
    # staff never see an ID number or a full name on the page
    content = page.content()
    assert number not in page.locator("main").inner_text()
    assert "吴磊" not in content and "钱红" not in content
    screenshot(page, "venues-scanner-offline-queue")

    context.set_offline(False)
    wait_queue(page, 0)
    # none refused: all three stored
    assert Entry.objects.count() == 3, page.locator("#vs-refused-box").inner_text()
    stored = {str(e.id): e for e in Entry.objects.all()}
    assert set(stored) == {e["id"] for e in queued}
    by_person = {e.person_id: e for e in stored.values()}
    assert by_person[typed.pk].method == "document" and str(by_person[typed.pk].temperature) == "37.8"
    assert {by_person[first.pk].method, by_person[second.pk].method} == {"staff_scan"}
    assert str(by_person[second.pk].temperature) == "36.8"
    # the answers fill in the masked names: 吴* style, never the full name
    page.wait_for_selector("#vs-recent li[data-state=uploaded] >> nth=2")
    recent = page.locator("#vs-recent").inner_text()
    # a two-character name masks to its family name
    assert "吴*" in recent and "郑*" in recent and "钱*" in recent
    assert "吴磊" not in recent and "钱红" not in recent
    assert page.locator("#vs-last-upload").get_attribute("data-at")
    screenshot(page, "venues-scanner-uploaded")

    # the same entries again, as from a phone that lost the answer: stored once
    uploads = int(page.locator("#vs-scanner").get_attribute("data-uploads"))
    assert page.evaluate(REQUEUE, queued) == 3
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector(f"#vs-scanner[data-uploads='{uploads + 1}']")
    wait_queue(page, 0)
    assert Entry.objects.count() == 3

    # and after a reload the queue is still empty and nothing more is stored
    open_scanner(page, live_server.url, venue)
    assert queue_length(page) == 0
    assert Entry.objects.count() == 3


def test_a_batch_whose_answer_was_lost_is_sent_again_without_loss(
    live_server, page, door, make_person, grid_cells
):
    venue = door
    person = make_person(grid_cells[0].code, name="周强")
    token = issue_token(ensure_code(person)).token
    open_scanner(page, live_server.url, venue)
    lost = []

    def store_then_drop(route):
        # the server stores the batch, the answer never reaches the phone
        response = route.fetch()
        lost.append(response.status)
        route.abort()

    page.route("**/api/v1/venues/entries", store_then_drop)
    scan_token(page, token)
    page.fill("#vs-temperature", "36.4")
    page.click("#vs-record")
    page.wait_for_selector("#vs-scanner[data-upload-error=network]")
    assert lost == [201] and Entry.objects.count() == 1
    assert queue_length(page) == 1  # kept: the phone does not know it was stored

    page.unroute("**/api/v1/venues/entries")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_queue(page, 0)
    assert Entry.objects.count() == 1
    screenshot(page, "venues-scanner-resent")


def test_an_entry_the_server_refuses_goes_aside_and_the_rest_is_stored(
    live_server, page, door, make_person, grid_cells, tmp_path
):
    venue = door
    person = make_person(grid_cells[0].code, name="周强")
    token = issue_token(ensure_code(person)).token
    # a well-formed ID number nobody registered: the batch API refuses the whole batch, naming it
    stranger = IdNumbers().make(random.Random(5), "320583", date(1992, 7, 1), "M")
    open_scanner(page, live_server.url, venue)
    page.context.set_offline(True)
    page.wait_for_selector("#vs-scanner[data-online=false]")
    page.fill("#vs-document-input", stranger)
    page.click("#vs-document-use")
    record(page, "36.6")
    # the code from a photo this time (jsQR)
    photo = tmp_path / "code.png"
    photo.write_bytes(render_png(token, scale=6))
    page.set_input_files("#vs-photo", str(photo))
    page.wait_for_selector("#vs-result[data-reason=ok]")
    assert page.locator("#vs-token-input").input_value() == token
    record(page, "36.4")
    assert queue_length(page) == 2

    page.context.set_offline(False)
    wait_queue(page, 0)

    assert Entry.objects.count() == 1 and Entry.objects.get().person_id == person.pk
    refused = page.locator("#vs-refused li")
    assert refused.count() == 1
    page.wait_for_selector("#vs-recent li[data-state=refused]")
    # the refused entry keeps neither the number nor the code on the phone
    (kept,) = page.evaluate(QUEUE_ENTRIES.replace('"queue"', '"refused"'))
    assert "document_number" not in kept and kept["refused_code"] == "person_unknown"
    assert stranger not in page.locator("main").inner_text()
    screenshot(page, "venues-scanner-refused")
    page.click("#vs-refused-clear")
    page.wait_for_selector("#vs-refused-box", state="hidden")


def test_the_scanner_opens_again_without_a_network(live_server, page, door, make_person, grid_cells):
    venue = door
    person = make_person(grid_cells[0].code, name="周强")
    token = issue_token(ensure_code(person)).token
    open_scanner(page, live_server.url, venue)
    # the service worker kept the page and its scripts
    page.wait_for_selector("#vs-scanner[data-offline-copy]")
    kept = int(page.locator("#vs-scanner").get_attribute("data-offline-copy"))
    assert kept >= 8
    # the copy kept (each rendering of the page carries a newly masked CSRF token)
    rendered = page.evaluate(
        """async () => {
          const kept = await (await caches.open("epigrid-venues-scanner-v1")).match(location.pathname);
          const html = await kept.text();
          return new DOMParser().parseFromString(html, "text/html").getElementById("vs-scanner").dataset.csrf;
        }"""
    )
    assert rendered != page.locator("#vs-scanner").get_attribute("data-csrf")

    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#vs-scanner[data-ready=true][data-keys-ready=true]")
    # the kept copy, not a page rendered again
    assert page.locator("#vs-scanner").get_attribute("data-csrf") == rendered
    scan_token(page, token)
    record(page, "36.7")
    screenshot(page, "venues-scanner-reopened-offline")

    page.context.set_offline(False)
    wait_queue(page, 0)
    assert Entry.objects.filter(person=person).count() == 1


def test_a_long_queue_uploads_in_batches_of_500(live_server, page, door, make_person, grid_cells):
    venue = door
    person = make_person(grid_cells[0].code, name="周强")
    token = issue_token(ensure_code(person)).token
    open_scanner(page, live_server.url, venue)
    # one recorded entry, the shape the page stores, copied 1,200 times with ids of their own
    page.context.set_offline(True)
    page.wait_for_selector("#vs-scanner[data-online=false]")
    scan_token(page, token)
    record(page, "36.5")
    (entry,) = page.evaluate(QUEUE_ENTRIES)
    copies = page.evaluate(
        """(entry) => Array.from({ length: 1199 }, () => ({ ...entry, id: crypto.randomUUID() }))""", entry
    )
    assert page.evaluate(REQUEUE, copies) == 1199
    batches = []
    page.on(
        "request",
        lambda request: (
            batches.append(len(request.post_data_json["entries"]))
            if request.url.endswith("/api/v1/venues/entries")
            else None
        ),
    )

    page.context.set_offline(False)
    page.wait_for_selector("#vs-queue-count[data-count='0']", timeout=60_000)

    assert batches == [500, 500, 200]
    assert Entry.objects.filter(person=person).count() == 1200
