"""Declarations and pushed lists become rules facts for a batch of persons, one query per source
and batch (DESIGN: plugging into the loop), and the decisions follow (JS79-13, JX57-2.1,
JX57-2.2, JX57-2.3)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.declarations import facts, services
from epigrid.declarations.models import Declaration, DeclarationStatus, PushedRow
from epigrid.declarations.services import pushed_commit, pushed_upload
from epigrid.rules import facts as rf
from epigrid.rules.models import PersonRuleState
from epigrid.rules.services.person_facts import build_facts
from epigrid.rules.services.risk import risk_context

from .conftest import GRID, WUCHANG, WUHAN, arrival, identity, local, stop
from .lists import xlsx

PUBLIC = Actor(user=None, via="public")


@pytest.fixture
def batch(world, id_numbers, persona, make_person, clock):
    """A: Wuhan arrival with a stop and a fever; B: overseas, not isolated at the first entry
    point; C: withdrawn; D: on a committed pushed list; E: unconfirmed; F: nothing."""
    now = clock.now
    day = local(now)
    a = services.declare_public(
        actor=PUBLIC,
        person_data=identity(id_numbers(), name="甲"),
        data=arrival(
            origin=WUHAN,
            stops=[stop(WUCHANG, day - timedelta(days=9), day - timedelta(days=2))],
            temperature=Decimal("37.8"),
            symptoms=["cough"],
            health_code_colour="green",
            health_code_issuer="420000",
        ),
    ).declaration
    b_data = arrival(origin="GB", transport="flight", transport_number="CA938")
    b_data.entered_country_at = now - timedelta(days=2)
    b_data.entry_port = "310115"
    b_data.isolated_at_first_entry = False
    b = services.declare_public(
        actor=PUBLIC, person_data=identity(id_numbers(), name="乙"), data=b_data
    ).declaration
    c = services.declare_public(
        actor=PUBLIC, person_data=identity(id_numbers(), name="丙"), data=arrival()
    ).declaration
    worker = Actor(user=persona("grid_worker", prefixes=[GRID]), via="test")
    services.withdraw(actor=worker, declaration=c, reason="错误")
    d_number = id_numbers(division="320583")
    d = make_person(GRID, name="丁", number=d_number)
    team = Actor(user=persona("data_team"), via="test")
    arrived = timezone.localtime(now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    listed = pushed_upload.upload(
        actor=team,
        name="电信推送",
        source="telecom",
        file_name="t.xlsx",
        data=xlsx([[d_number, "丁", "", "湖北省宜昌市", arrived, "", GRID, "自驾", "鄂E12345"]]),
    )
    pushed_commit.request_commit(actor=team, pushed=listed, enqueue=False)
    pushed_commit.run_commit(list_id=listed.pk, actor=team)
    e_number = id_numbers(division="320583")
    make_person(GRID, name="戊", phone="13911112222", number=e_number)
    e = services.declare_public(
        actor=PUBLIC, person_data=identity(e_number, name="不是戊"), data=arrival()
    ).declaration
    f = make_person(GRID, name="己")
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "now": now}


def test_declarations_become_arrivals_stops_and_health_checks(batch):
    persons = [batch[k].person if isinstance(batch[k], Declaration) else batch[k] for k in "abcdef"]
    at = batch["now"] + timedelta(minutes=1)
    got = facts.declaration_facts(persons, at)
    a, b = batch["a"], batch["b"]
    assert set(got) == {str(a.person_id), str(b.person_id)}  # withdrawn and unconfirmed count for nothing
    fa = got[str(a.person_id)]
    assert fa["arrivals"] == (
        rf.Arrival(
            arrived_at=a.arrived_at,
            origin=WUHAN,
            transport="train",
            transport_number="G1234",
            declared_at=a.declared_at,
            health_code_colour="green",
            health_code_issuer="420000",
            destination=GRID[:12],
        ),
    )
    today, day = local(batch["now"]), local(a.arrived_at)
    assert set(fa["travel"]) == {
        rf.TravelStop(WUCHANG, today - timedelta(days=9), today - timedelta(days=2)),
        rf.TravelStop(WUHAN, day, day),
    }
    assert fa["health_check"] == rf.HealthCheck(a.declared_at, 37.8, frozenset({"cough"}))
    fb = got[str(b.person_id)]["arrivals"][0]
    assert (fb.origin, fb.from_abroad, fb.entry_port, fb.isolated_at_first_entry) == (
        "GB",
        True,
        "310115",
        False,
    )
    assert fb.entered_country_at == b.entered_country_at
    assert "health_check" not in got[str(b.person_id)]


def test_pushed_rows_become_arrivals_until_a_check_excludes_them(batch):
    d = batch["d"]
    at = batch["now"] + timedelta(minutes=1)
    got = facts.pushed_list_facts([d], at)[str(d.pk)]
    arrival_fact = got["arrivals"][0]
    assert (arrival_fact.origin, arrival_fact.transport, arrival_fact.transport_number) == (
        "420500",
        "car",
        "鄂E12345",
    )
    assert got["travel"] == (
        rf.TravelStop("420500", local(arrival_fact.arrived_at), local(arrival_fact.arrived_at)),
    )
    PushedRow.objects.filter(person=d).update(excluded_from_facts=True)
    assert facts.pushed_list_facts([d], at) == {}


def test_each_source_reads_a_batch_in_one_query(batch, django_assert_num_queries):
    persons = [batch[k].person if isinstance(batch[k], Declaration) else batch[k] for k in "abcdef"] * 300
    at = batch["now"] + timedelta(minutes=1)
    with django_assert_num_queries(1):
        facts.declaration_facts(persons, at)
    with django_assert_num_queries(1):
        facts.pushed_list_facts(persons, at)


def test_the_rules_see_both_sources_merged(batch):
    persons = [batch["a"].person, batch["d"]]
    at = batch["now"] + timedelta(minutes=1)
    built = build_facts(persons, at, risk_context(at))
    fa, fd = built[batch["a"].person_id], built[batch["d"].pk]
    assert fa.latest_arrival(at).origin == WUHAN and fa.health_check.fever
    assert fd.latest_arrival(at).origin == "420500"


def test_facts_known_later_are_not_seen_in_a_replay_of_earlier_time(batch):
    a = batch["a"]
    before = a.declared_at - timedelta(seconds=1)
    assert facts.declaration_facts([a.person], before) == {}


def test_a_declared_fever_makes_the_code_yellow_and_a_risk_area_makes_it_red(batch, id_numbers, clock):
    """The colour follows from declared facts: a fever not yet excluded is isolated under NA182-3,
    which keeps the code red until a negative test (above the yellow class for fever or cough);
    a stay in a listed high-risk area within 14 days → red (JX57-2.3)."""
    from epigrid.regions.models import RiskArea

    assert PersonRuleState.objects.get(person=batch["a"].person).colour == "red"
    now = clock.now
    RiskArea.objects.create(
        area="110106",
        area_name="北京市丰台区",
        level="high",
        starts_on=local(now) - timedelta(days=20),
        notice="测试通告",
        status="published",
        created_at=now,
        published_at=now,
    )
    result = services.declare_public(
        actor=PUBLIC, person_data=identity(id_numbers(), name="庚"), data=arrival(origin="110106")
    )
    assert PersonRuleState.objects.get(person=result.declaration.person).colour == "red"


def test_touching_finds_the_persons_whose_travel_lies_in_an_area(batch):
    a, b, c, d = batch["a"], batch["b"], batch["c"], batch["d"]
    assert set(facts.declaration_touching(("4201",))) == {a.person_id}
    assert set(facts.declaration_touching(("42",))) == {a.person_id}  # c was withdrawn
    assert set(facts.declaration_touching(("GB",))) == {b.person_id}
    assert set(facts.declaration_touching(("420102",))) == set()
    c.refresh_from_db()
    assert c.status == DeclarationStatus.WITHDRAWN
    assert set(facts.pushed_list_touching(("42",))) == {d.pk}
    assert set(facts.pushed_list_touching(("4201",))) == set()


def test_the_sources_are_registered_with_the_rules(world):
    from epigrid.rules.registry import facts_sources

    names = dict(facts_sources())
    assert names["declarations"] is facts.declaration_facts
    assert names["pushed_lists"] is facts.pushed_list_facts
