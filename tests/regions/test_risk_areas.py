"""Risk-area lists (R3.1, JX57-2.3, NA182-2.4; R10.5): drafts, changes that supersede, withdrawn
listings, history kept, and the public page in Chinese and English without sign-in."""

from datetime import date, timedelta

import pytest
from django.core.cache import cache

from epigrid.accounts.models import AuditEvent
from epigrid.lib.errors import Conflict, DomainError
from epigrid.regions.models import RiskArea
from epigrid.regions.services import queries, risk


def listing(area, level="high", starts_on=date(2020, 6, 13), ends_on=None, notice="notice", name=""):
    return risk.RiskAreaInput(
        area=area, level=level, starts_on=starts_on, ends_on=ends_on, notice=notice, area_name=name
    )


def publish(system, *drafts, withdraw=()):
    return risk.apply_change(actor=system, publish=[d.pk for d in drafts], withdraw=[w.pk for w in withdraw])


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_a_change_is_a_draft_that_supersedes_on_publication_and_history_is_kept(world, system):
    first = risk.create_draft(actor=system, data=listing("110106"))
    publish(system, first)
    change = risk.edit_listing(
        actor=system,
        row=RiskArea.objects.get(pk=first.pk),
        data=listing("110106", ends_on=date(2020, 7, 20), notice="解除通告"),
    )
    assert change.status == "draft" and change.supersedes_id == first.pk
    assert RiskArea.objects.get(pk=first.pk).status == "published"  # nothing changes before publication

    applied = publish(system, change)

    assert [r.pk for r in applied.superseded] == [first.pk]
    history = queries.history_of("110106")
    assert [(r.pk, r.status) for r in history] == [(first.pk, "superseded"), (change.pk, "published")]
    notes = list(
        AuditEvent.objects.filter(object_type="risk_area").order_by("id").values_list("note", flat=True)
    )
    assert "superseded 110106 high" in notes and "published 110106 high" in notes


def test_listing_rules_are_enforced(world, system):
    with pytest.raises(DomainError) as bad:
        risk.create_draft(actor=system, data=listing("4201001"))
    assert bad.value.field == "area"
    with pytest.raises(DomainError):
        risk.create_draft(actor=system, data=listing("CN"))
    with pytest.raises(DomainError) as no_start:
        risk.create_draft(actor=system, data=listing("420100", starts_on=None))
    assert no_start.value.field == "starts_on"
    # land-border areas are listed without dates
    risk.create_draft(actor=system, data=listing("533102", level="land_border", starts_on=None))
    first = risk.create_draft(actor=system, data=listing("420100"))
    with pytest.raises(Conflict):
        risk.create_draft(actor=system, data=listing("420100", notice="again"))
    publish(system, first)
    with pytest.raises(Conflict):
        risk.create_draft(actor=system, data=listing("420100", notice="again"))
    # a delisted area may be listed again for a new period
    ended = risk.edit_listing(actor=system, row=first, data=listing("420100", ends_on=date(2020, 6, 30)))
    publish(system, ended)
    again = risk.create_draft(actor=system, data=listing("420100", starts_on=date(2020, 8, 1)))
    assert again.supersedes_id is None
    # prefixes are padded: 42 is Hubei, 420000
    assert risk.create_draft(actor=system, data=listing("42", level="key")).area == "420000"


def test_withdrawing_a_listing_and_discarding_a_draft(world, system):
    listed = risk.create_draft(actor=system, data=listing("110106"))
    publish(system, listed)
    spare = risk.create_draft(actor=system, data=listing("110102", level="medium"))
    risk.discard_draft(actor=system, draft=spare)
    publish(system, withdraw=[RiskArea.objects.get(pk=listed.pk)])
    assert RiskArea.objects.get(pk=listed.pk).status == "withdrawn"
    assert RiskArea.objects.get(pk=spare.pk).status == "withdrawn"
    assert not queries.in_force_on(date(2020, 6, 20)).exists()
    with pytest.raises(Conflict):
        publish(system, withdraw=[RiskArea.objects.get(pk=listed.pk)])


def test_staff_pages_draft_edit_and_show_history(world, persona, client_for, system):
    # an area in Beijing is on the province's list (a county lists inside the county only)
    cdc = persona("province_command")
    client = client_for(cdc)
    created = client.post(
        "/regions/risk-areas/new/",
        {"area": "110106", "level": "high", "starts_on": "2020-06-13", "notice": "北京市公告"},
    )
    assert created.status_code == 302
    draft = RiskArea.objects.get(area="110106")
    assert draft.status == "draft" and draft.created_by == cdc
    invalid = client.post("/regions/risk-areas/new/", {"area": "999999", "level": "high", "notice": "x"})
    assert invalid.status_code == 200 and invalid.context["form"].errors["area"]

    page = client.get("/regions/risk-areas/manage/", HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "Fengtai District" in body or "丰台区" in body
    assert 'name="publish"' in body and 'action="/rules/risk-change/preview"' in body

    publish(system, draft)
    client.post(
        f"/regions/risk-areas/{draft.pk}/edit/",
        {
            "area": "110106",
            "level": "high",
            "starts_on": "2020-06-13",
            "ends_on": "2020-07-20",
            "notice": "解除",
        },
    )
    change = RiskArea.objects.get(area="110106", status="draft")
    assert change.supersedes_id == draft.pk and change.ends_on == date(2020, 7, 20)
    history = client.get("/regions/risk-areas/history/110106/")
    assert history.status_code == 200 and len(history.context["rows"]) == 2
    assert client.get("/regions/risk-areas/history/999999/").status_code == 404
    discarded = client.post(f"/regions/risk-areas/{change.pk}/discard/")
    assert discarded.status_code == 302 and RiskArea.objects.get(pk=change.pk).status == "withdrawn"


def test_roles_without_the_power_cannot_edit_the_list(world, persona, client_for):
    worker = client_for(persona("grid_worker"))
    assert worker.get("/regions/risk-areas/manage/").status_code == 403
    assert worker.post("/regions/risk-areas/new/", {"area": "110106"}).status_code == 403
    payload = {"area": "110106", "level": "high", "starts_on": "2020-06-13", "notice": "x"}
    api = worker.post("/api/v1/rules/risk-areas", payload, content_type="application/json")
    assert api.status_code == 403
    assert api.status_code == 403
    assert not RiskArea.objects.exists()


def _public_world(system, today):
    rows = [
        risk.create_draft(
            actor=system, data=listing("420000", "high", today - timedelta(days=30), notice="湖北省通告")
        ),
        risk.create_draft(
            actor=system, data=listing("110106", "medium", today - timedelta(days=3), notice="北京市通告")
        ),
        risk.create_draft(
            actor=system, data=listing("320583102001", "medium", today - timedelta(days=1), notice="昆山")
        ),
        risk.create_draft(
            actor=system, data=listing("US", "high", today - timedelta(days=60), notice="入境")
        ),
        risk.create_draft(
            actor=system, data=listing("110102", "medium", today + timedelta(days=2), notice="明日")
        ),
    ]
    publish(system, *rows)
    old = risk.create_draft(
        actor=system, data=listing("110105", "medium", today - timedelta(days=20), notice="旧")
    )
    publish(system, old)
    publish(system, withdraw=[RiskArea.objects.get(pk=old.pk)])
    return rows


def test_the_public_page_lists_the_areas_by_level_in_both_languages_without_sign_in(
    world, client, system, clock
):
    _public_world(system, clock.today)

    zh = client.get("/regions/risk-areas/")
    assert zh.status_code == 200
    body = zh.content.decode()
    assert "湖北省" in body and "丰台区" in body and "青阳社区" in body
    levels = [g["level"] for g in zh.context["groups"]]
    assert levels == ["high", "medium"]
    high = zh.context["groups"][0]
    assert [label for label, _ in high["by_division_level"]][-1] in ("Countries", "国家")
    assert zh.context["total"] == 4  # the one listed from the day after tomorrow is upcoming
    assert [r.area for r in zh.context["upcoming"]] == ["110102"]
    kinds = {(c.kind, c.row.area) for c in zh.context["changes"]}
    assert ("withdrawn", "110105") in kinds and ("listed", "110106") in kinds

    en = client.get("/regions/risk-areas/?lang=en")
    text = en.content.decode()
    assert en.context["language"] == "en"
    assert (
        "Fengtai District, Beijing Municipality" in text
        and "Hubei Province" in text
        and "United States" in text
    )


def test_the_public_page_is_rate_limited(world, client, ratelimit_clock):
    statuses = [client.get("/regions/risk-areas/").status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_the_public_api_lists_the_areas_in_force(world, client, system, clock):
    _public_world(system, clock.today)
    rows = client.get("/api/v1/rules/risk-areas").json()
    assert {r["area"] for r in rows} == {"420000", "110106", "320583102001", "US"}
    fengtai = next(r for r in rows if r["area"] == "110106")
    assert fengtai["name_zh"] == "北京市丰台区" and fengtai["name_en"].startswith("Fengtai District")
    later = client.get(f"/api/v1/rules/risk-areas?on={(clock.today + timedelta(days=3)).isoformat()}")
    assert "110102" in {r["area"] for r in later.json()}
