"""A county's CDC member lists a community of the county with the division picker, in the
browser (issue 10.15): no code is typed."""

import pytest

from epigrid.regions.models import Division, RiskArea
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lists_a_community_picked_from_the_county_down(live_server, page, world, persona):
    persona("cdc", prefixes=["320583"], username="cdc-picker", password="a long enough secret")
    town = Division.objects.filter(parent_id="320583").order_by("code").first()
    community = Division.objects.filter(parent_id=town.code).order_by("code").first()
    page.goto(f"{live_server.url}/accounts/login/?next=/regions/risk-areas/new/")
    page.fill("#id_username", "cdc-picker")
    page.fill("#id_password", "a long enough secret")
    page.click("button[type=submit]")
    page.wait_for_url("**/regions/risk-areas/new/")
    picker = page.locator(".place-picker")
    picker.locator("select").nth(0).select_option("320583")
    picker.locator("select").nth(1).select_option(town.code)
    picker.locator("select").nth(2).select_option(community.code)
    assert picker.locator("select").nth(2).locator("option:checked").inner_text() == community.name_zh
    page.select_option("#id_level", "medium")
    page.fill("#id_starts_on", "2020-06-13")
    page.fill("#id_notice", "昆山市疫情防控指挥部通告")
    screenshot(page, "risk-area-picker")
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
    assert page.url.endswith("/regions/risk-areas/manage/")
    draft = RiskArea.objects.get(status="draft")
    assert draft.area == community.code and draft.division_code == "320583"
    assert community.name_zh in page.content()
