"""Explanations (issue item 7, R3.3): each open measure with its reason and clause — requirement
IDs, rule, pack and version — and its times in China time, in the reader's language; for staff
also the decision history; for the person, on their own page, in the language of their link."""

from datetime import date, timedelta

import pytest
from django.conf import settings

from epigrid.people.services import create_private_link
from epigrid.regions.services import risk
from epigrid.rules.services.sweeping import reassess

from .conftest import AT, t

KS10_ZH = "返昆前14天内有疫情重点地区旅居史"
KS10_EN = "Stayed in a key epidemic area within the 14 days before returning"
WUHAN_ZH = "到达前14天内有武汉市旅居史"


@pytest.fixture
def returnee(book, listing, make_person, cell, system):
    key = listing("420000", "key", date(2020, 1, 23), notice="key-area list")
    person = book.arrival(make_person(cell.code, name="韩梅梅"), at=t(6, 15), origin="420102")
    reassess(person, actor=system, at=AT, cause="declaration")
    return person, key


def test_staff_see_reason_clause_rule_and_times_in_chinese(returnee, persona, client_for, cell):
    person, _ = returnee
    worker = persona("grid_worker", prefixes=[cell.code])
    body = client_for(worker).get(f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    panel = body[body.index('id="rules-panel"') :]
    assert 'lang="zh-hans"' in panel[:40]
    assert KS10_ZH in panel and WUHAN_ZH in panel
    assert "KS10-3, KS10-14" in panel and "KS10-3/key-area-returnee" in panel
    assert "kunshan-2020-10 v1" in panel and "jiangsu-2020-79 v1" in panel
    # 14 days from the stored arrival at 10:00 China time on 15 June
    assert "居家隔离或集中隔离，14天，2020-06-15 10:00 → 2020-06-29 10:00" in panel
    assert "2020-06-29 10:00" in panel
    assert "红码" in panel and "JX57-2.3" in panel  # the colour, its clauses
    assert "kunshan-2020-10@1" in panel  # the history names the pack versions


def test_staff_see_it_in_english_with_the_history_of_changes(returnee, persona, client_for, cell, system):
    person, key = returnee
    risk.apply_change(actor=system, publish=[], withdraw=[key.pk], at=AT + timedelta(days=1))
    reassess(person, actor=system, at=AT + timedelta(days=1), cause="risk_change")
    worker = persona("grid_worker", prefixes=[cell.code])
    response = client_for(worker).get(f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    panel = response.content.decode()
    panel = panel[panel.index('id="rules-panel"') :]
    assert "Stayed in Wuhan within the 14 days before arrival" in panel
    assert KS10_EN not in panel.split("Decision history")[0]  # closed: no longer in force
    history = panel.split("Decision history")[1]
    assert "risk-area change" in history and "declaration" in history and "risk_change" not in history
    assert "closed" in history and "Home quarantine or centralized quarantine, 14 days" in history
    assert "red → green" in history.replace("&gt;", ">").replace("→", "→")


def test_the_person_reads_their_own_measures_in_the_language_of_their_link(returnee, client, system):
    person, _ = returnee
    token_en = create_private_link(actor=system, person=person, language="en")
    token_zh = create_private_link(actor=system, person=person, language="zh-hans")

    english = client.get(f"/me/{token_en}/").content.decode()
    section = english[english.index('id="rules-self"') :]
    assert KS10_EN in section and "Kunshan epidemic command notice [2020] No. 10, item 3, item 14" in section
    assert "until 2020-06-29 10:00" in section
    assert "KS10-3" not in section and "kunshan-2020-10" not in section  # words, not IDs (issue 10.13)
    assert "Decision history" not in english and "fingerprint" not in english

    chinese = client.get(f"/me/{token_zh}/").content.decode()
    section = chinese[chinese.index('id="rules-self"') :]
    assert KS10_ZH in section and "2020-06-29 10:00" in section and 'lang="zh-hans"' in section[:40]

    # a person who switched the page's language reads it in that language
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    switched = client.get(f"/me/{token_zh}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert KS10_EN in switched


def test_the_explanation_api_gives_the_same_in_both_languages(returnee, persona, client_for, cell):
    person, _ = returnee
    client = client_for(persona("grid_worker", prefixes=[cell.code]))
    zh = client.get(f"/api/v1/rules/persons/{person.pk}/explanation").json()
    en = client.get(f"/api/v1/rules/persons/{person.pk}/explanation?lang=en").json()
    assert zh["colour"]["value"] == en["colour"]["value"] == "red"
    rules_zh = {(m["rule"], tuple(m["clauses"])) for m in zh["measures"]}
    assert rules_zh == {(m["rule"], tuple(m["clauses"])) for m in en["measures"]}
    quarantine = next(m for m in en["measures"] if m["kind"] == "quarantine")
    assert quarantine["reason"].startswith(KS10_EN) and quarantine["pack"] == "kunshan-2020-10"
    assert quarantine["ends_at"].startswith("2020-06-29T10:00:00+08:00")
    assert zh["history"][0]["packs"] and zh["history"][0]["cause"] == "declaration"
    outsider = client_for(persona("grid_worker", prefixes=["320585100001001"]))
    assert outsider.get(f"/api/v1/rules/persons/{person.pk}/explanation").status_code == 404


def test_someone_not_yet_assessed_shows_no_measures(make_person, cell, persona, client_for):
    from epigrid.rules.explanations import explain_person
    from epigrid.rules.panels import self_panel

    person = make_person(cell.code)
    page = client_for(persona("grid_worker", prefixes=[cell.code])).get(
        f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "The rules have not assessed this person yet." in page.content.decode()
    assert explain_person(person, "en").assessed is False
    assert self_panel(page.wsgi_request, person) is None


@pytest.mark.parametrize(
    ("opened_after_limit", "zh", "en"),
    [
        (True, "已过检测时限，请尽快检测", "past the test's time limit: test at once"),
        (False, "已逾期", "overdue"),
    ],
)
def test_a_test_asked_after_its_time_limit_says_so_not_overdue(opened_after_limit, zh, en):
    # NA182-2.5.1: inbound travellers tested within 12 hours of arrival; one who declares days later
    # is told the limit is behind them, as the grid worker's task says, not that they let it lapse
    from epigrid.rules.explanations import measure_view
    from epigrid.rules.models import MeasureRecord

    limit = AT - timedelta(days=1)
    rec = MeasureRecord(
        kind="test",
        params={"tests": ["nucleic_acid"]},
        rule_id="NA182-2.5.1/inbound-test",
        requirements=["NA182-2.5.1"],
        pack_id="national-2020-182",
        pack_version=1,
        reason_zh="境外入境",
        reason_en="Arrived from abroad",
        starts_at=limit - timedelta(hours=12),
        ends_at=limit,
        state="overdue",
        opened_at=AT if opened_after_limit else limit - timedelta(hours=12),
    )
    assert measure_view(rec, "zh-hans").state_label == zh
    assert measure_view(rec, "en").state_label == en
    assert measure_view(rec, "zh-hans").overdue
