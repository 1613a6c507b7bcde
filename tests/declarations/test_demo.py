"""The demo data (issue item 8): arrivals of simulated persons from Wuhan, elsewhere in Hubei,
abroad and listed risk areas, a committed pushed list with checks open and done, tips, and the
decisions the rules made from them."""

import pytest

from epigrid.accounts.audit import Actor
from epigrid.declarations.demo import LIST_NAME, seed_demo
from epigrid.declarations.models import Declaration, ListStatus, PushedList, Tip, VerificationTask
from epigrid.rules.models import MeasureRecord, PersonRuleState


@pytest.fixture
def population(world):
    from epigrid.demo.services import simulate

    simulate(actor=Actor.system("test"), persons=900, seed=5, duplicates=False)


def test_it_seeds_arrivals_a_pushed_list_and_tips_and_reassesses_them(population, clock):
    at = clock.now
    counts = seed_demo(actor=Actor.system("test"), seed=1, at=at)
    assert counts["wuhan"] == 25 and counts["hubei"] == 20
    assert counts["abroad_isolated"] == 8 and counts["abroad_not_isolated"] == 6
    assert counts["risk_high"] == 4 and counts["business_visits"] >= 1 and counts["trips"] == 4
    listed = PushedList.objects.get(name=LIST_NAME)
    assert listed.status == ListStatus.COMMITTED and listed.total_rows == 193 and listed.error_rows == 3
    checks = VerificationTask.objects.filter(pushed_row__pushed_list=listed)
    assert (
        checks.filter(status="open").exists()
        and checks.filter(status="done").count() == counts["pushed_checks_done"] > 0
    )
    assert set(checks.exclude(outcome="").values_list("outcome", flat=True)) == {
        "found",
        "left",
        "not_found",
        "wrong_info",
    }
    assert Tip.objects.count() == 4
    assert MeasureRecord.objects.filter(rule_id="JS79-13/wuhan", status="open").count() >= 25
    assert MeasureRecord.objects.filter(rule_id="JS79-13/short-business-visit").exists()
    assert MeasureRecord.objects.filter(rule_id="NA182-2.5.1/inbound-test").exists()
    red = PersonRuleState.objects.filter(colour="red", person__declarations__origin="110106").count()
    assert red == 4
    assert Declaration.objects.filter(kind="departure").count() == 4
    assert Declaration.objects.filter(return_of__isnull=False).count() == 2
    assert set(counts["links"]) >= {"wuhan", "hubei"}
    assert seed_demo(actor=Actor.system("test"), seed=1, at=at) == {"skipped": True}
