"""The demo walked in Debian's chromium (issue 10, "done when"): the demo is built in the test
database the way `epigrid demo` builds it, every printed login signs in, and its home page, its
main page and the first records listed there are opened in zh-hans and in English (in zh-hans,
the default, every page of its menu too), with the public pages the demo prints (status links,
health codes, risk areas, sampling points, the forms). A page fails when its visible
text holds a raw stored code from the list `raw_codes` builds out of the code itself, or when
it does not answer 200. Every page is photographed under var/walk/ to be looked at.
"""

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import translation

from epigrid.accounts.audit import Actor
from epigrid.demo.build import build_demo
from epigrid.demo.services import DEMO_PASSWORD
from tests.browser.raw_codes import find_raw, known_codes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "walk"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
ON_PHONES = {"grid", "checkpoint", "sampling"}

# (page, codes, why they may show there)
ALLOWED = [
    (
        r"^/testing/lab/$",
        {"test", "result", "nucleic_acid", "serology_igm", "serology_igg", "negative", "positive"},
        "the column names of the results file, and the spellings of tests and results a file may "
        "carry (a laboratory system's export writes the codes), listed beside their labels",
    ),
    (
        r"^/regions/risk-areas/import/$",
        {"area_name", "ends_on", "starts_on", "local_cases", "land_border", "high", "medium", "key"},
        "the column names and level values of the risk-area file, as the file must carry them",
    ),
    (
        r"^/healthcode/keys/$",
        {"healthcode", "CN-32"},
        "the command to type (epigrid healthcode trust add FILE); the issuer's id beside its name, "
        "which other provinces configure",
    ),
]


# Free text that services wrote at the time, in English, with figures in it ("batch 1: 50 rows,
# 50 checks", "received 2 tubes at …"): its words are words, not codes, so only the codes no
# language writes (snake_case, IDs) are looked for there. The codes a note carries are shown
# as labels (accounts.audit_labels.note_label).
FREE_TEXT = {r"^/accounts/audit/": "table.list td:nth-child(8)"}

_WITHOUT = """(selector) => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll(selector).forEach((e) => e.remove());
  document.body.appendChild(copy);
  copy.style.position = "absolute";
  const text = copy.innerText;
  copy.remove();
  return text;
}"""


# The signed token of a health code, printed for typing in by hand: base45, not words (its
# letters could spell a clause ID by chance).
NOT_WORDS = {r"^/healthcode/me/": "#code-token"}


def _text(page, path: str, codes, *, public: bool, english: bool) -> set[str]:
    for pattern, selector in NOT_WORDS.items():
        if re.search(pattern, path):
            return find_raw(page.evaluate(_WITHOUT, selector), codes, public=public, english=english)
    for pattern, selector in FREE_TEXT.items():
        if re.search(pattern, path):
            notes = " ".join(page.locator(selector).all_inner_texts())
            rest = page.evaluate(_WITHOUT, selector)
            return find_raw(rest, codes, public=public, english=english) | find_raw(
                notes, codes, public=public, english=True
            )
    return find_raw(page.inner_text("body"), codes, public=public, english=english)


def _allowed(path: str, found: set[str], usernames: set[str]) -> set[str]:
    if path.startswith("/accounts/audit/"):
        # the user column names who acted: the demo's usernames are its role names (cdc, lab)
        found = found - usernames
    for pattern, codes, _why in ALLOWED:
        if re.search(pattern, path):
            found = found - codes
    return found


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _look(page, base: str, path: str, *, name: str, codes, public: bool, english: bool, problems: list):
    usernames = codes.usernames
    response = page.goto(base + path)
    if response is None or response.status != 200:
        problems.append(f"{name} {path}: answered {response.status if response else 'nothing'}")
        return
    if path.startswith("/healthcode/scan/"):
        page.wait_for_selector("[data-keys-ready=true]")  # the key list names its issuers
    _shot(page, name)
    found = _allowed(path, _text(page, path, codes.known, public=public, english=english), usernames)
    if found:
        problems.append(f"{name} {path}: raw codes {sorted(found)}")


def _detail_links(page, limit: int = 2) -> list[str]:
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    details = [h for h in hrefs if re.fullmatch(r"/[a-z-]+/(?:[a-z-]+/)?[0-9a-f-]{36}/", h or "")]
    return list(dict.fromkeys(details))[:limit]


def test_it_walks_every_demo_login_and_public_page_in_both_languages(live_server, browser, world):
    # built as `epigrid demo` builds it: by the command line's actor, in the default language
    # (what the services store as text, a pushed row's errors, is in the language of the build)
    with translation.override(settings.LANGUAGE_CODE):
        build = build_demo(actor=Actor.system("cli"), persons=1500, seed=1, base_url=live_server.url)
    codes = SimpleNamespace(known=known_codes(), usernames={login["username"] for login in build.logins})
    base = live_server.url
    problems: list[str] = []
    for lang in ("zh-hans", "en"):
        english = lang == "en"
        for login in build.logins:
            user = login["username"]
            context = browser.new_context(locale="zh-CN", viewport=PHONE if user in ON_PHONES else DESK)
            context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": base}])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", user)
            page.fill("#id_password", DEMO_PASSWORD)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert "/accounts/login/" not in page.url, f"{user} cannot sign in"
            assert page.locator("html").get_attribute("lang") == lang
            menu = page.eval_on_selector_all("nav.mainnav a", "els => els.map(e => e.getAttribute('href'))")
            assert login["main"] in menu, f"{user}: the main page is not in the menu"
            # every menu page in zh-hans, the default; in English the home and main page
            pages = ["/", *[h for h in menu if h != "/" and (not english or h == login["main"])]]
            for i, path in enumerate(pages):
                _look(
                    page,
                    base,
                    path,
                    name=f"{lang}-{user}-{i:02d}",
                    codes=codes,
                    public=False,
                    english=english,
                    problems=problems,
                )
                if path == login["main"]:
                    for j, detail in enumerate(_detail_links(page)):
                        _look(
                            page,
                            base,
                            detail,
                            name=f"{lang}-{user}-{i:02d}-{j}",
                            codes=codes,
                            public=False,
                            english=english,
                            problems=problems,
                        )
            context.close()
        public_pages = [f"/me/{token}/" for token in build.links.values()]
        public_pages += [build.codes[c].removeprefix(base) for c in ("green", "yellow", "red")]
        public_pages += [
            "/",
            "/regions/risk-areas/",
            "/testing/public/points/",
            "/declarations/public/declare/",
            "/declarations/public/tip/",
        ]
        context = browser.new_context(locale="zh-CN", viewport=PHONE)
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": lang, "url": base}])
        page = context.new_page()
        page.set_default_timeout(30_000)
        for i, path in enumerate(public_pages):
            _look(
                page,
                base,
                path,
                name=f"{lang}-public-{i:02d}",
                codes=codes,
                public=True,
                english=english,
                problems=problems,
            )
        context.close()
    assert not problems, "\n".join(problems)
