"""The web flow of a risk-area change (issue item 6): a CDC member drafts, previews on the
page (progress polled with htmx), the command publishes; people's measures change; roles and
scopes hold (issue 10.4: the list is the commands', JX57-2.3)."""

from datetime import date, timedelta
from unittest import mock

import pytest

from epigrid.regions.models import RiskArea
from epigrid.rules import bulk
from epigrid.rules.models import BulkRun, MeasureRecord, PersonRuleState
from epigrid.rules.services.population import Population
from epigrid.rules.services.sweeping import sweep

from .conftest import run_worker


@pytest.fixture
def now_people(book, make_person, grid_cells, system, clock):
    """People who arrived from Wuhan three days ago (the rules run at the real time here)."""
    now = clock.now
    people = []
    for i in range(3):
        person = make_person(grid_cells[i].code, name=f"到达{i}")
        book.arrival(person, at=now - timedelta(days=3, hours=i), origin="420102")
        people.append(person)
    sweep(Population(), at=now - timedelta(minutes=5), write=True, actor=system)
    return people


def test_draft_preview_publish_through_the_pages_changes_peoples_measures(
    now_people, persona, client_for, grid_cells, clock
):
    cdc = persona("cdc", prefixes=["32"])  # the province's CDC: Wuhan is on the province's list
    client = client_for(cdc)
    today = clock.today
    client.post(
        "/regions/risk-areas/new/",
        {
            "area": "420100",
            "level": "key",
            "starts_on": (today - timedelta(days=20)).isoformat(),
            "notice": "重点地区",
        },
    )
    draft = RiskArea.objects.get(area="420100", status="draft")
    assert not MeasureRecord.objects.filter(rule_id="KS10-3/key-area-returnee").exists()

    started = client.post("/rules/risk-change/preview", {"publish": [str(draft.pk)]})
    assert started.status_code == 302
    run = BulkRun.objects.get(kind="preview")
    assert started["Location"] == f"/rules/runs/{run.pk}/"
    page = client.get(started["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert 'hx-trigger="every 1s"' in page.content.decode()  # polls while queued

    run_worker()
    progress = client.get(f"/rules/runs/{run.pk}/progress", HTTP_ACCEPT_LANGUAGE="en")
    body = progress.content.decode()
    assert "every 1s" not in body and 'aria-valuenow="100"' in body
    assert progress.context["total"]["people"] == 3 and progress.context["total"]["to_red"] == 3
    towns = [r for r in progress.context["rows"] if r["town"]]
    assert sum(r["people"] for r in towns) == 3 and all(r["name"] != r["code"] for r in towns)
    assert not progress.context["can_publish"]  # the CDC previews; the command publishes
    assert client.post(f"/rules/runs/{run.pk}/publish")["Location"] == f"/rules/runs/{run.pk}/"
    assert RiskArea.objects.get(pk=draft.pk).status == "draft"
    client = client_for(persona("province_command"))
    assert client.get(f"/rules/runs/{run.pk}/progress").context["can_publish"]

    published = client.post(f"/rules/runs/{run.pk}/publish")
    new_run = BulkRun.objects.get(kind="publish")
    assert published["Location"] == f"/rules/runs/{new_run.pk}/"
    assert RiskArea.objects.get(pk=draft.pk).status == "published"
    run_worker()
    new_run.refresh_from_db()
    assert new_run.status == "done" and new_run.counts == BulkRun.objects.get(pk=run.pk).counts
    for person in now_people:
        assert PersonRuleState.objects.get(person=person).colour == "red"
        assert MeasureRecord.objects.filter(
            person=person, status="open", rule_id="KS10-3/key-area-returnee", kind="quarantine"
        ).exists()
    again = client.post(f"/rules/runs/{run.pk}/publish")
    assert again.status_code == 302 and BulkRun.objects.filter(kind="publish").count() == 1


def test_who_may_preview_publish_and_see_runs(now_people, persona, client_for, system, clock):
    draft = RiskArea.objects.create(
        area="420100", level="key", starts_on=date(2020, 1, 23), notice="n", created_at=clock.now
    )
    worker = client_for(persona("grid_worker"))
    assert worker.post("/rules/risk-change/preview", {"publish": [str(draft.pk)]}).status_code == 403
    editor_only = persona("cdc")
    with mock.patch("epigrid.accounts.roles.ROLE_PERMISSIONS", {"cdc": frozenset({"rules.risk_edit"})}):
        client = client_for(editor_only)
        assert client.get("/regions/risk-areas/manage/").status_code == 200
        assert client.post("/rules/risk-change/preview", {"publish": [str(draft.pk)]}).status_code == 403
    # a reassessment limited to one county is not visible to another county's command
    run = bulk.start_reassessment(actor=system, division="320583", write=False, queue=False)
    taicang = client_for(persona("county_command", prefixes=["320585"]))
    assert taicang.get(f"/rules/runs/{run.pk}/").status_code == 404
    assert taicang.get(f"/api/v1/rules/runs/{run.pk}").status_code == 404
    kunshan = client_for(persona("county_command"))
    assert kunshan.get(f"/rules/runs/{run.pk}/").status_code == 200
    refused = kunshan.post("/rules/reassess/preview", {"division": "320585"})
    assert refused.status_code == 302 and BulkRun.objects.count() == 1


def test_the_api_previews_and_publishes_a_risk_change(now_people, persona, client_for, clock):
    client = client_for(persona("province_command"))
    today = clock.today
    draft = client.post(
        "/api/v1/rules/risk-areas",
        {
            "area": "420100",
            "level": "key",
            "starts_on": (today - timedelta(days=20)).isoformat(),
            "notice": "n",
        },
        content_type="application/json",
    ).json()
    preview = client.post(
        "/api/v1/rules/risk-changes/preview", {"publish": [draft["id"]]}, content_type="application/json"
    )
    assert preview.status_code == 202 and preview.json()["status"] == "queued"
    run_worker()
    done = client.get(f"/api/v1/rules/runs/{preview.json()['id']}").json()
    assert done["status"] == "done" and done["counts"][""]["to_red"] == 3 and done["percent"] == 100
    published = client.post(f"/api/v1/rules/runs/{done['id']}/publish")
    assert published.status_code == 202
    run_worker()
    final = client.get(f"/api/v1/rules/runs/{published.json()['id']}").json()
    assert final["counts"] == done["counts"] and final["kind"] == "publish"
    twice = client.post(f"/api/v1/rules/runs/{done['id']}/publish")
    assert twice.status_code == 409 and twice.json()["code"] == "preview_published"


def test_a_candidate_pack_is_previewed_without_touching_anyone(now_people, persona, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    candidate = """
id: kunshan-wuhan-test
version: 1
title: {zh-hans: 测试, en: Test}
source: {document: 测试文件, date: 2020-06}
jurisdiction: "320583"
valid_from: 2020-01-01
rules:
  - id: KS10-3/wuhan-monitoring
    requirements: [KS10-3]
    when:
      travel_within: {days: 14, area: "4201"}
    measures:
      - kind: health_monitoring
        days: 14
    reason:
      zh-hans: 到达前14天内有武汉市旅居史，按第3条每日健康监测14天。
      en: Stayed in Wuhan within the 14 days before arrival; daily health monitoring for 14 days under item 3.
"""
    client = client_for(persona("cdc"))
    response = client.post(
        "/rules/reassess/preview",
        {"division": "320583", "pack": SimpleUploadedFile("p.yaml", candidate.encode())},
    )
    assert response.status_code == 302
    run = BulkRun.objects.get(cause="pack_change")
    run_worker()
    run.refresh_from_db()
    assert run.status == "done" and run.counts[""]["people"] == 3 and run.counts[""]["opened"] == 3
    assert not MeasureRecord.objects.filter(rule_id="KS10-3/wuhan-monitoring").exists()
    page = client.get(f"/rules/runs/{run.pk}/")
    assert not page.context["can_publish"]
    broken = client.post(
        "/rules/reassess/preview", {"division": "320583", "pack": SimpleUploadedFile("p.yaml", b"id: [")}
    )
    assert broken.status_code == 302 and BulkRun.objects.filter(cause="pack_change").count() == 1
