"""On a phone in Debian's chromium: a person declares a Wuhan arrival on the public page in
zh-hans and sees their status link with the measures and their clauses in words (JS79-13); a grid worker signs
in, sees the check on the ground and records it (R2.4)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from epigrid.declarations.models import Declaration, VerificationStatus, VerificationTask
from epigrid.rules.models import MeasureRecord
from tests.conftest import screenshot

from .conftest import GRID

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pick(page, field_id: str, codes: list[str]) -> None:
    """Choose a place in the cascading selects built around the field `field_id`."""
    picker = page.locator(f".place-picker:has(#{field_id})")
    for level, code in enumerate(codes):
        select = picker.locator("select").nth(level)
        select.wait_for()
        select.select_option(code)
    assert page.input_value(f"#{field_id}") == codes[-1]


def test_it_a_person_declares_on_a_phone_and_sees_their_measures(live_server, page, world, id_numbers, clock):
    page.goto(f"{live_server.url}/declarations/public/declare/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.viewport_size["width"] == 390
    page.fill("#id_name", "周晓梅")
    page.fill("#id_id_number", id_numbers())
    page.fill("#id_phone", "13912340000")
    arrived = timezone.localtime(clock.now - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_arrived_at", arrived)
    _pick(page, "id_origin", ["420000", "420100", "420106"])
    page.select_option("#id_transport", "train")
    page.fill("#id_transport_number", "G1722")
    page.select_option("#id_purpose", "return_home")
    # one place of the last 14 days, picked on the phone like the others
    stop_row = page.locator("#stops .stop-row").first
    stop_row.locator("select").first.select_option("420000")
    stop_row.locator("select").nth(1).select_option("420100")
    today = clock.today
    stop_row.locator("input[name=stop_start]").fill(str(today - timedelta(days=9)))
    stop_row.locator("input[name=stop_end]").fill(str(today - timedelta(days=1)))
    _pick(page, "id_division_code", ["320583001", GRID[:12], GRID])
    page.fill("#id_address", "亭林路8号3幢201室")
    page.fill("#id_temperature", "36.5")
    page.check("input[name=consent]")
    # the overseas part stays hidden for an arrival from within China
    assert not page.locator("fieldset[data-overseas]").is_visible()
    # no field runs off the side of a phone screen
    screenshot(page, "declarations-public-form-zh")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 391).slice(0, 5)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    assert wide == [], wide

    page.click("button[type=submit]")
    page.wait_for_url("**/declarations/public/declared/")
    link = page.locator(".link-box").inner_text()
    assert "/me/" in link
    measures = page.locator("#measures").inner_text()
    # the clause in words for the person, not its ID (issue 10.13)
    assert "苏肺炎防控办〔2020〕79号 第十三条" in measures and "武汉" in measures
    assert "JS79-13" not in measures
    screenshot(page, "declarations-public-declared-zh")

    declaration = Declaration.objects.get()
    assert declaration.origin == "420106" and declaration.division_code == GRID
    assert sorted(declaration.stops.values_list("area", flat=True)) == ["420100", "420106"]
    assert MeasureRecord.objects.filter(person=declaration.person, rule_id="JS79-13/wuhan").exists()

    page.click("text=打开我的状态" if "打开我的状态" in page.content() else "#private-link a.button")
    page.wait_for_url("**/me/**")
    status = page.locator("main").inner_text()
    assert "苏肺炎防控办〔2020〕79号 第十三条" in status  # the measure with its clause, from the rules panel
    assert "JS79-13" not in status
    assert page.locator("#my-declarations").is_visible()
    assert "G1722" in page.locator("#my-declarations").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    screenshot(page, "declarations-my-status-zh")


def test_it_a_grid_worker_sees_and_records_the_check_on_a_phone(
    live_server, page, world, persona, make_person, id_numbers, clock
):
    from epigrid.accounts.audit import Actor
    from epigrid.declarations.services import pushed_commit, pushed_upload
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    from .lists import xlsx

    person = make_person(GRID, name="吴建华", phone="13711112222", number=id_numbers(division="320583"))
    number = cipher().decrypt(ID_FIELD, person.id_number_enc, row=person.pk)
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(clock.now - timedelta(hours=20)).strftime("%Y-%m-%d %H:%M")
    listed = pushed_upload.upload(
        actor=team,
        name="铁路推送",
        source="transport",
        file_name="l.xlsx",
        data=xlsx(
            [
                [
                    number,
                    "吴建华",
                    "13711112222",
                    "湖北省武汉市",
                    arrived,
                    "昆山市亭林街道亭林路66号",
                    "",
                    "火车",
                    "G1722",
                ]
            ]
        ),
    )
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    task = VerificationTask.objects.get()
    persona("grid_worker", prefixes=[GRID], username="gw-verify", password="a long enough secret")

    page.goto(f"{live_server.url}/declarations/verify/")
    page.fill("#id_username", "gw-verify")
    page.fill("#id_password", "a long enough secret")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/declarations/verify/")
    card = page.locator(f"[data-task='{task.pk}']")
    card.wait_for()
    assert "吴建华" in card.inner_text() and "亭林路66号" in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "declarations-verify-list-zh")

    card.click()
    page.wait_for_url(f"**/declarations/verify/{task.pk}/")
    assert "*" in page.locator(".masked").first.inner_text()
    page.check("input[name=outcome][value=found]")
    page.fill("#id_notes", "已上门核实，本人在家，已告知检测安排")
    screenshot(page, "declarations-verify-form-zh")
    page.click("#verify-form button[type=submit]")
    page.wait_for_url("**/declarations/verify/")
    assert page.locator(f"[data-task='{task.pk}']").count() == 0
    task.refresh_from_db()
    assert task.status == VerificationStatus.DONE and task.outcome == "found"
    assert task.result_declaration.status == "confirmed"
    page.goto(f"{live_server.url}/declarations/verify/?show=done")
    assert "吴建华" in page.content()
    screenshot(page, "declarations-verify-done-zh")
