"""English complete on every page (issue 10 item 17): every role's pages and the public pages,
rendered in English, show no Chinese but data — a person's or a unit's name, an address, a
list's name — and text marked as Chinese (`lang="zh-hans"`, a division's Chinese name beside
its English one). Division names are shown by their English names."""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from epigrid.accounts.models import User
from epigrid.accounts.roles import permissions_of
from epigrid.people.services import create_private_link
from epigrid.web.context import MENU

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff60]+")
VOID = {"input", "img", "br", "meta", "link", "hr", "source", "area", "wbr"}
ROLES = [
    "grid_worker",
    "county_command",
    "province_command",
    "cdc",
    "data_team",
    "sampling",
    "lab",
    "checkpoint",
    "auditor",
    "admin",
    "unit_manager",
]
PUBLIC = [
    "/accounts/login/",
    "/declarations/public/declare/",
    "/declarations/public/tip/",
    "/regions/risk-areas/?lang=en",
    "/testing/public/points/",
]


class _Visible(HTMLParser):
    """The text a reader sees or hears, without scripts and without what is marked Chinese."""

    def __init__(self):
        super().__init__()
        self.skipping: list[bool] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skip = tag in ("script", "style") or (attrs.get("lang") or "").startswith("zh")
        if not any(self.skipping) and not skip:
            self.text += [attrs[k] for k in ("placeholder", "title", "alt", "aria-label") if attrs.get(k)]
        if tag not in VOID:
            self.skipping.append(skip)

    def handle_endtag(self, tag):
        if tag not in VOID and self.skipping:
            self.skipping.pop()

    def handle_data(self, data):
        if not any(self.skipping):
            self.text.append(data)


def _chinese(html: str) -> set[str]:
    parser = _Visible()
    parser.feed(html)
    return set(CJK.findall(" ".join(parser.text)))


def _data() -> list[str]:
    """Text that is data, not the interface: what people and units are called, where they are,
    what staff and imports wrote."""
    from epigrid.declarations.models import Declaration, PushedList, Tip
    from epigrid.people.models import Person
    from epigrid.regions.models import RiskArea
    from epigrid.testing.models import SamplingPoint
    from epigrid.units.models import Unit

    values = []
    for model, fields in [
        (Person, ["name", "address"]),
        (Unit, ["name", "address", "contact_name"]),
        (User, ["username", "first_name", "last_name"]),
        (SamplingPoint, ["name", "address", "waiting_place", "contact_name"]),
        (PushedList, ["name"]),
        (Tip, ["address", "observed", "subject_name"]),
        (Declaration, ["address", "host_name"]),
        (RiskArea, ["notice", "area_name"]),
    ]:
        for row in model.objects.values_list(*fields):
            values += [v for v in row if v]
    return values


def _unexplained(found: set[str], data: list[str]) -> set[str]:
    return {run for run in found if not any(run in value for value in data)}


def _pages(user) -> list[str]:
    perms = permissions_of(user.role)
    urls = ["/"]
    for _label, entries in MENU:
        urls += [reverse(name) for name, _item, perm in entries if perm is None or perm in perms]
    return urls


def test_it_shows_every_role_its_pages_in_english(world, persona, make_person, system):
    make_person("320583001001001", name="周晓梅", address="亭林路8号3幢201室")
    problems = {}
    for role in ROLES:
        user = persona(role)
        client = Client()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        for url in _pages(user):
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            assert '<html lang="en">' in response.content.decode()
            bad = _unexplained(_chinese(response.content.decode()), _data())
            if bad:
                problems[(role, url)] = sorted(bad)
    assert problems == {}


def test_it_shows_the_public_pages_and_a_persons_own_page_in_english(world, make_person, system):
    person = make_person("320583001001001", name="周晓梅")
    token = create_private_link(actor=system, person=person, language="en")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    problems = {}
    for url in [*PUBLIC, f"/me/{token}/", f"/healthcode/me/{token}/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        bad = _unexplained(_chinese(response.content.decode()), _data())
        if bad:
            problems[url] = sorted(bad)
    assert problems == {}
