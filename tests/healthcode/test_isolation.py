"""A person under isolation never sees or shows a green code (issue 10.1): the Wuhan arrival in
Kunshan with normal tests after arrival, once Wuhan is on the key-area list, is in KS10-3's
fourteen days of home or centralized isolation, so the person's own pages, the staff panel and
the signed token all say red, with the isolation as the reason and its end as the release."""

import re
from datetime import date, datetime

import pytest

from epigrid.accounts.audit import Actor
from epigrid.healthcode import keys, tokens
from epigrid.people.services import create_private_link
from epigrid.regions.services import risk
from epigrid.rules import facts as rf

from .conftest import GRID
from .test_pages import token_on

pytestmark = pytest.mark.django_db

CST = rf.CHINA_TZ
ARRIVED = datetime(2020, 4, 10, 9, tzinfo=CST)
AT = datetime(2020, 4, 11, 10, tzinfo=CST)


@pytest.fixture
def isolated(make_person, facts, assess, system):
    """孙丽 came back to Kunshan from Wuhan on 10 April; both tests after arrival are normal."""
    draft = risk.create_draft(
        actor=system,
        data=risk.RiskAreaInput(
            area="420100", level="key", starts_on=date(2020, 1, 23), ends_on=None, notice="key areas"
        ),
        at=datetime(2020, 3, 1, tzinfo=CST),
    )
    risk.apply_change(actor=system, publish=[draft.pk], withdraw=[], at=datetime(2020, 3, 1, tzinfo=CST))
    person = make_person(GRID, name="孙丽")
    sampled = datetime(2020, 4, 10, 11, tzinfo=CST)
    facts[str(person.pk)] = {
        "arrivals": (rf.Arrival(arrived_at=ARRIVED, origin="420102"),),
        "travel": (rf.TravelStop("420102", date(2020, 3, 1), date(2020, 4, 10)),),
        "tests": tuple(
            rf.TestResult(kind=kind, result="negative", sampled_at=sampled)
            for kind in ("nucleic_acid", "serology_igg", "serology_igm")
        ),
    }
    assess(person, at=AT, cause="declaration")
    return person


def test_it_shows_red_with_the_isolation_as_reason_on_the_persons_own_code_page(client, isolated, clock):
    link = create_private_link(actor=Actor.system("test"), person=isolated)

    page = client.get(f"/healthcode/me/{link}/").content.decode()

    assert 'data-colour="red"' in page and "红码" in page
    assert "可正常通行" not in page and 'data-colour="green"' not in page
    reasons = page[page.index('id="reasons"') :]
    assert "隔离期间为红码" in reasons and "居家隔离或集中隔离" in reasons
    # the clause in words for the person, never the rule's or the clause's ID (issue 10.13)
    assert "昆防指〔2020〕10号 第三条" in reasons
    assert "KS10-3" not in reasons
    # it clears when the fourteen days of isolation end, and says so
    assert "隔离结束" in reasons and "2020-04-24 09:00" in reasons
    # what to do: the red advice, and the isolation among the measures in force
    assert "按下列要求隔离观察，不要外出" in page
    measures = re.findall(r'<li class="hc-measure" data-state="(\w+)">([^<]+)', page)
    assert ("active", "居家隔离或集中隔离") in [(state, text.split("，")[0]) for state, text in measures]
    verdict = tokens.verify(token_on(page), keys.published_key_list(), clock.now)
    assert verdict.valid and verdict.colour == "red"

    english = client.get(f"/healthcode/me/{link}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Red code" in english and "You may go about as usual" not in english
    assert "a red code while the isolation runs" in english and "the end of the isolation" in english


def test_it_shows_red_on_the_status_page_and_the_staff_panel(client, persona, client_for, isolated):
    link = create_private_link(actor=Actor.system("test"), person=isolated)

    status = client.get(f"/me/{link}/").content.decode()
    panel = status[status.index('id="healthcode-panel"') :]
    assert 'data-colour="red"' in panel[:600] and "可正常通行" not in status
    assert "隔离期间为红码" in panel

    staff = (
        client_for(persona("grid_worker", prefixes=[GRID])).get(f"/people/{isolated.pk}/").content.decode()
    )
    staff_panel = staff[staff.index('id="healthcode-panel"') :]
    assert 'data-colour="red"' in staff_panel[:800] and "KS10-3/key-area-returnee" in staff_panel
