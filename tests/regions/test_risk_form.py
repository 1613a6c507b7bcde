"""The new-listing form picks its area with the division picker of the declaration pages (issue
10.15): from the user's jurisdiction down to a community, or anywhere and abroad for the
province's list; without JavaScript a typed name or code is read (R3.1)."""

import json
import re

import pytest

from epigrid.regions.models import RiskArea


def _picker(body: str) -> dict:
    match = re.search(
        r'<div class="place-picker" data-root="([^"]*)" data-depth="(\d)"( data-countries="1")?', body
    )
    assert match, "the area has no division picker"
    countries = json.loads(re.search(r'id="countries-data"[^>]*>(.*?)</script>', body, re.S).group(1))
    return {
        "root": match.group(1),
        "depth": int(match.group(2)),
        "abroad": bool(match.group(3)),
        "countries": countries,
    }


@pytest.mark.parametrize(
    "role, prefixes, root, depth, abroad",
    [
        ("cdc", ["320583"], "320500", 3, False),  # Kunshan and below: county, town, community
        ("city_command", ["3205"], "320000", 4, False),
        ("province_command", ["32"], "", 5, True),  # anywhere in the country, and abroad
    ],
)
def test_it_offers_a_division_picker_from_the_jurisdiction_down(
    world, persona, client_for, role, prefixes, root, depth, abroad
):
    body = client_for(persona(role, prefixes=prefixes)).get("/regions/risk-areas/new/").content.decode()
    picker = _picker(body)
    assert (picker["root"], picker["depth"], picker["abroad"]) == (root, depth, abroad)
    assert bool(picker["countries"]) == abroad
    assert "declarations/declare.js" in body and 'name="area"' in body


def test_it_reads_a_place_typed_without_javascript(world, persona, client_for):
    client = client_for(persona("province_command"))
    for typed, code in (("湖北省武汉市", "420100"), ("美国", "US"), ("320583001001", "320583001001")):
        response = client.post(
            "/regions/risk-areas/new/",
            {"area": typed, "level": "medium", "starts_on": "2020-06-13", "notice": "通告"},
        )
        assert response.status_code == 302, response.context["form"].errors
        assert RiskArea.objects.filter(area=code, status="draft").exists()
    unknown = client.post(
        "/regions/risk-areas/new/",
        {"area": "亚特兰蒂斯", "level": "medium", "starts_on": "2020-06-13", "notice": "通告"},
    )
    assert unknown.status_code == 200 and unknown.context["form"].errors["area"]
