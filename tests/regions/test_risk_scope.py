"""Who lists, changes and publishes which risk areas (issue 10.4, R3.1, JX57-2.3): every role and
scope against listings of three jurisdictions, through the services, the API and the pages.

JX57-2.3 gives the list to the commands of every level. A command and its CDC list areas inside
their own jurisdiction; areas elsewhere and abroad are on the province's list; a draft is its
author's jurisdiction's (out of it: 404); only a command publishes, and only its own listings."""

from datetime import date

import pytest

from epigrid.accounts.audit import Actor
from epigrid.lib.errors import DomainError, Forbidden, NotFound
from epigrid.regions.models import RiskArea
from epigrid.regions.services import risk, risk_import
from epigrid.rules import bulk

KUNSHAN_AREA = "320583001001"  # a community of Kunshan
TAICANG_AREA = "320585"  # the county of Taicang
WUHAN = "420100"

# (persona, role, prefixes)
PERSONAS = {
    "province": ("province_command", ["32"]),
    "city": ("city_command", ["3205"]),
    "kunshan_county": ("county_command", ["320583"]),
    "taicang_county": ("county_command", ["320585"]),
    "kunshan_cdc": ("cdc", ["320583"]),
    "taicang_cdc": ("cdc", ["320585"]),
    "grid_worker": ("grid_worker", ["320583001001001"]),
    "data_team": ("data_team", ["320583"]),
}

# who may draft a listing of each area (JX57-2.3): ok, outside (their jurisdiction), or denied
CREATE = {
    "province": {KUNSHAN_AREA: "ok", TAICANG_AREA: "ok", WUHAN: "ok", "US": "ok"},
    "city": {KUNSHAN_AREA: "ok", TAICANG_AREA: "ok", WUHAN: "outside", "US": "outside"},
    "kunshan_county": {KUNSHAN_AREA: "ok", TAICANG_AREA: "outside", WUHAN: "outside", "US": "outside"},
    "taicang_county": {KUNSHAN_AREA: "outside", TAICANG_AREA: "ok", WUHAN: "outside", "US": "outside"},
    "kunshan_cdc": {KUNSHAN_AREA: "ok", TAICANG_AREA: "outside", WUHAN: "outside", "US": "outside"},
    "taicang_cdc": {KUNSHAN_AREA: "outside", TAICANG_AREA: "ok", WUHAN: "outside", "US": "outside"},
    "grid_worker": {KUNSHAN_AREA: "denied", TAICANG_AREA: "denied", WUHAN: "denied", "US": "denied"},
    "data_team": {KUNSHAN_AREA: "denied", TAICANG_AREA: "denied", WUHAN: "denied", "US": "denied"},
}

# the drafts each persona reaches (edit, discard, preview): by the jurisdiction of the draft
REACH = {
    "province": {"kunshan", "taicang", "national"},
    "city": {"kunshan", "taicang"},
    "kunshan_county": {"kunshan"},
    "taicang_county": {"taicang"},
    "kunshan_cdc": {"kunshan"},
    "taicang_cdc": {"taicang"},
    "grid_worker": set(),
    "data_team": set(),
}
MAY_EDIT = {"province", "city", "kunshan_county", "taicang_county", "kunshan_cdc", "taicang_cdc"}
MAY_PREVIEW = MAY_EDIT  # RULES_PUBLISH
MAY_PUBLISH = {"province", "city", "kunshan_county", "taicang_county"}  # RISK_PUBLISH: commands


def _listing(area, notice="通告"):
    return risk.RiskAreaInput(
        area=area, level="medium", starts_on=date(2020, 6, 13), ends_on=None, notice=notice
    )


@pytest.fixture
def people(persona):
    return {key: persona(role, prefixes=prefixes) for key, (role, prefixes) in PERSONAS.items()}


@pytest.fixture
def drafts(world, persona):
    """A draft of each jurisdiction, each by a command of it."""
    return {
        "kunshan": risk.create_draft(
            actor=Actor(user=persona("cdc", prefixes=["320583"])), data=_listing(KUNSHAN_AREA)
        ),
        "taicang": risk.create_draft(
            actor=Actor(user=persona("county_command", prefixes=["320585"])), data=_listing(TAICANG_AREA)
        ),
        "national": risk.create_draft(actor=Actor(user=persona("province_command")), data=_listing(WUHAN)),
    }


def test_a_draft_belongs_to_the_jurisdiction_of_its_author_jx57_2_3(drafts):
    assert {k: d.division_code for k, d in drafts.items()} == {
        "kunshan": "320583",
        "taicang": "320585",
        "national": "32",
    }


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("area", [KUNSHAN_AREA, TAICANG_AREA, WUHAN, "US"])
def test_it_lets_each_role_draft_only_inside_its_jurisdiction_jx57_2_3(world, people, client_for, who, area):
    expected = CREATE[who][area]
    client = client_for(people[who])
    body = {"area": area, "level": "medium", "starts_on": "2020-06-13", "notice": "通告"}
    api = client.post("/api/v1/rules/risk-areas", body, content_type="application/json")
    page = client.post("/regions/risk-areas/new/", {**body, "notice": "另一通告"})
    if expected == "ok":
        assert api.status_code == 201, api.content
        assert RiskArea.objects.filter(area=area, status="draft").count() == 1
        # the page refuses a second draft of the same area and list, as the service does
        assert page.status_code == 200 and page.context["form"].errors["area"]
    elif expected == "outside":
        assert api.status_code == 400 and api.json()["code"] == "risk_area_outside"
        assert api.json()["field"] == "area"
        assert page.status_code == 200 and page.context["form"].errors["area"]
        assert not RiskArea.objects.exists()
    else:
        assert api.status_code == 403 and page.status_code == 403
        assert not RiskArea.objects.exists()


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("target", ["kunshan", "taicang", "national"])
def test_it_lets_each_role_edit_and_discard_only_drafts_of_its_reach(drafts, people, client_for, who, target):
    draft = drafts[target]
    client = client_for(people[who])
    body = {"area": draft.area, "level": "medium", "starts_on": "2020-06-14", "notice": "更正"}
    api_edit = client.put(f"/api/v1/rules/risk-areas/{draft.pk}", body, content_type="application/json")
    page_edit = client.get(f"/regions/risk-areas/{draft.pk}/edit/")
    listed = client.get("/api/v1/rules/risk-areas/drafts")
    if who not in MAY_EDIT:
        assert api_edit.status_code == 403 and page_edit.status_code == 403 and listed.status_code == 403
        assert client.post(f"/regions/risk-areas/{draft.pk}/discard/").status_code == 403
        assert RiskArea.objects.get(pk=draft.pk).status == "draft"
        return
    reached = target in REACH[who]
    assert {d["id"] for d in listed.json()} == {str(drafts[k].pk) for k in REACH[who]}
    manage = client.get("/regions/risk-areas/manage/").content.decode()
    assert (str(draft.pk) in manage) == reached
    if not reached:
        assert api_edit.status_code == 404 and page_edit.status_code == 404
        assert client.post(f"/regions/risk-areas/{draft.pk}/discard/").status_code == 404
        assert client.post(f"/api/v1/rules/risk-areas/{draft.pk}/discard").status_code == 404
        assert client.get(f"/api/v1/rules/risk-areas/history/{draft.area}").status_code == 404
        row = RiskArea.objects.get(pk=draft.pk)
        assert (row.status, row.starts_on, row.notice) == ("draft", date(2020, 6, 13), "通告")
        return
    assert api_edit.status_code == 200, api_edit.content
    assert page_edit.status_code == 200
    assert RiskArea.objects.get(pk=draft.pk).notice == "更正"
    assert client.post(f"/regions/risk-areas/{draft.pk}/discard/").status_code == 302
    assert RiskArea.objects.get(pk=draft.pk).status == "withdrawn"


@pytest.fixture
def previews(drafts, system):
    """A finished what-if of publishing each draft."""
    out = {}
    for key, draft in drafts.items():
        run = bulk.preview_risk_change(actor=system, publish=[draft.pk], queue=False)
        out[key] = bulk.run_inline(run)
    return out


@pytest.mark.parametrize("who", PERSONAS)
@pytest.mark.parametrize("target", ["kunshan", "taicang", "national"])
def test_it_lets_only_a_command_publish_and_only_its_own_listings_jx57_2_3(
    drafts, previews, people, client_for, who, target
):
    """The issue's case among them: a county publishing the national list's area is a 404."""
    client = client_for(people[who])
    draft, preview = drafts[target], previews[target]
    api_preview = client.post(
        "/api/v1/rules/risk-changes/preview", {"publish": [str(draft.pk)]}, content_type="application/json"
    )
    run_page = client.get(f"/rules/runs/{preview.pk}/")
    api_publish = client.post(f"/api/v1/rules/runs/{preview.pk}/publish")
    status = RiskArea.objects.get(pk=draft.pk).status
    reached = target in REACH[who]
    if who not in MAY_PREVIEW:
        assert api_preview.status_code == 403 and run_page.status_code == 403
        assert api_publish.status_code == 403 and status == "draft"
    elif not reached:
        assert api_preview.status_code == 404 and run_page.status_code == 404
        assert f"/rules/runs/{preview.pk}/" not in client.get("/rules/").content.decode()
        assert api_publish.status_code == 404 and status == "draft"
        page = client.post("/rules/risk-change/preview", {"publish": [str(draft.pk)]})
        assert page.status_code == 302 and page["Location"] == "/regions/risk-areas/manage/"
    elif who not in MAY_PUBLISH:
        assert api_preview.status_code == 202  # the CDC member previews
        assert run_page.status_code == 200 and not run_page.context["can_publish"]
        assert api_publish.status_code == 403 and status == "draft"
    else:
        assert api_preview.status_code == 202 and run_page.context["can_publish"]
        assert api_publish.status_code == 202, api_publish.content
        assert status == "published"


@pytest.mark.parametrize("who", ["kunshan_county", "city", "taicang_county"])
def test_it_lets_a_command_withdraw_only_listings_of_its_own_jurisdiction(
    drafts, people, client_for, system, who
):
    risk.apply_change(actor=system, publish=[d.pk for d in drafts.values()], withdraw=[])
    client = client_for(people[who])
    manage = client.get("/regions/risk-areas/manage/").content.decode()
    for key, draft in drafts.items():
        reached = key in REACH[who]
        assert (f'name="withdraw" value="{draft.pk}"' in manage) == reached
        assert (f"/regions/risk-areas/{draft.pk}/edit/" in manage) == reached
        # the published list is public: every listing is shown
        assert draft.area in manage
        change = client.put(
            f"/api/v1/rules/risk-areas/{draft.pk}",
            {
                "area": draft.area,
                "level": "medium",
                "starts_on": "2020-06-13",
                "ends_on": "2020-07-01",
                "notice": "解除",
            },
            content_type="application/json",
        )
        assert change.status_code == (200 if reached else 404)
    with pytest.raises(NotFound):
        bulk.preview_risk_change(
            actor=Actor(user=people[who]), withdraw=[drafts["national"].pk], publish=[], queue=False
        )


def test_the_services_refuse_what_the_issue_saw(drafts, people):
    """Another county's CDC edited a Kunshan draft, another county discarded it, and a county
    published a national area."""
    kunshan = drafts["kunshan"]
    with pytest.raises(NotFound):
        risk.update_draft(
            actor=Actor(user=people["taicang_cdc"]), draft=kunshan, data=_listing(KUNSHAN_AREA, "x")
        )
    with pytest.raises(NotFound):
        risk.discard_draft(actor=Actor(user=people["taicang_county"]), draft=kunshan)
    with pytest.raises(NotFound):
        risk.apply_change(
            actor=Actor(user=people["kunshan_county"]), publish=[drafts["national"].pk], withdraw=[]
        )
    with pytest.raises(Forbidden):
        risk.apply_change(actor=Actor(user=people["kunshan_cdc"]), publish=[kunshan.pk], withdraw=[])
    with pytest.raises(DomainError) as outside:
        risk.create_draft(actor=Actor(user=people["kunshan_county"]), data=_listing(WUHAN))
    assert outside.value.code == "risk_area_outside"
    # a draft's area stays inside its jurisdiction when it is edited
    with pytest.raises(DomainError) as moved:
        risk.update_draft(actor=Actor(user=people["city"]), draft=kunshan, data=_listing(WUHAN))
    assert moved.value.field == "area"
    assert RiskArea.objects.get(pk=kunshan.pk).status == "draft"


def test_an_import_flags_rows_outside_the_jurisdiction_by_row_and_column(world, people):
    content = (
        "地区代码,风险等级,起始日期,通知\n"
        f"{KUNSHAN_AREA},中风险,2020-06-13,昆山通告\n"
        f"{WUHAN},高风险,2020-06-13,武汉通告\n"
    ).encode()
    parsed = risk_import.parse_import("l.csv", content, user=people["kunshan_cdc"])
    assert [(i.row, i.column) for i in parsed.issues] == [(3, "地区代码")]
    assert risk_import.parse_import("l.csv", content, user=people["province"]).ok
