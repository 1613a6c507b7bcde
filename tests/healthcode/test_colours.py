"""The colour of each person's code comes from the rules (R4.1): recorded by the decision
listener with its reasons and clauses, kept as history, and cleared by time alone when the
release conditions are met. Time is controlled, never slept."""

from datetime import datetime, timedelta

import pytest

from epigrid.healthcode import tokens
from epigrid.healthcode.models import ColourChange, HealthCode
from epigrid.healthcode.services.codes import HealthCodeError, ensure_code
from epigrid.healthcode.services.issuing import issue_token
from epigrid.healthcode.services.queries import history
from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules.facts import CaseStatus, ContactStatus, TestResult
from epigrid.rules.models import PersonRuleState
from epigrid.rules.services.queries import due_for_review

from .conftest import GRID

pytestmark = pytest.mark.django_db

# 10:00 in Kunshan on a fixed day
AT = datetime(2024, 5, 1, 10, 0, tzinfo=CHINA_TZ)
DAY = timedelta(days=1)


def code_of(person) -> HealthCode:
    return HealthCode.objects.get(person=person)


def test_it_gives_a_person_a_green_code_with_a_random_code_id_on_the_first_decision(make_person, assess):
    person = make_person(GRID, name="陈静")
    other = make_person(GRID, name="陈静")

    assess(person, at=AT)
    assess(other, at=AT)

    code = code_of(person)
    assert code.colour == "green"
    assert code.colour_since == AT
    assert [r["rule"] for r in code.reasons] == ["colour/default-green"]
    assert code.requirements == ["JS79-12"]
    assert code.release is None and code.release_at is None
    assert code.division_code == GRID
    # the pseudonym is random: two people registered alike get unrelated ids
    assert code.code_id != code_of(other).code_id
    first = ColourChange.objects.get(person=person)
    assert (first.old_colour, first.new_colour, first.at, first.cause) == ("", "green", AT, "test")


def test_the_token_carries_neither_the_name_nor_the_document_number(make_person, assess):
    from epigrid.lib.crypto import cipher
    from epigrid.people.services import ID_FIELD

    person = make_person(GRID, name="陈静")
    assess(person, at=AT)
    issued = issue_token(code_of(person))

    raw = tokens.b45decode(issued.token[len(tokens.PREFIX) :])
    assert raw[12:28] == code_of(person).code_id.bytes
    assert "陈静".encode() not in raw
    number = cipher().decrypt(ID_FIELD, person.id_number_enc, row=person.pk)
    assert number.encode() not in raw and number[-8:].encode() not in raw


def test_a_close_contact_turns_red_with_rule_clause_and_release_then_clears_after_a_negative_test(
    make_person, assess, facts
):
    person = make_person(GRID)
    assess(person, at=AT - DAY)
    exposure = AT - 2 * DAY
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=exposure, identified_at=AT)}

    assess(person, at=AT, cause="case")

    code = code_of(person)
    assert code.colour == "red"
    assert code.colour_since == AT
    assert [r["rule"] for r in code.reasons] == ["colour/close-contact"]
    assert code.reasons[0]["zh-hans"].startswith("密切接触者")
    assert code.requirements == ["NA182-3"]
    assert "14" in code.release["zh-hans"] and "nucleic-acid" in code.release["en"]
    assert code.release_at == exposure + 14 * DAY
    # the rules will look again when time alone may change the decision
    state = PersonRuleState.objects.get(person=person)
    assert state.next_review_at is not None and state.next_review_at <= code.release_at

    # 14 days on, without a negative test: still red (release needs both)
    assess(person, at=exposure + 15 * DAY, cause="review")
    assert code_of(person).colour == "red"

    # a negative test after the exposure: the next review clears it
    facts[str(person.pk)]["tests"] = (
        TestResult(kind="nucleic_acid", result="negative", sampled_at=exposure + 13 * DAY),
    )
    assess(person, at=exposure + 15 * DAY, cause="review")
    code = code_of(person)
    assert code.colour == "green"
    assert code.colour_since == exposure + 15 * DAY
    changes = history(person)
    assert [(h.old_colour, h.new_colour) for h in changes] == [
        ("red", "green"),
        ("green", "red"),
        ("", "green"),
    ]
    assert changes[1].reasons[0]["rule"] == "colour/close-contact"
    assert changes[1].cause == "case" and changes[0].cause == "review"


def test_a_discharged_patient_is_yellow_and_clears_by_itself_on_the_release_date(make_person, assess, facts):
    person = make_person(GRID)
    discharged = AT - DAY
    facts[str(person.pk)] = {
        "case": CaseStatus(status="discharged", since=AT - 20 * DAY, discharged_at=discharged)
    }

    assess(person, at=AT)
    code = code_of(person)
    assert code.colour == "yellow"
    release = discharged + 14 * DAY
    assert code.release_at == release
    state = PersonRuleState.objects.get(person=person)
    assert state.next_review_at == release

    # the scheduled review picks the person on the release date, not before
    assert person.pk not in due_for_review(release - timedelta(minutes=1))
    assert person.pk in due_for_review(release)
    assess(person, at=release - timedelta(minutes=1), cause="review")
    assert code_of(person).colour == "yellow"
    assess(person, at=release, cause="review")

    code = code_of(person)
    assert code.colour == "green"
    assert code.colour_since == release
    assert [(h.old_colour, h.new_colour, h.at) for h in history(person)][:2] == [
        ("yellow", "green", release),
        ("", "yellow", AT),
    ]


def test_a_new_reason_for_the_same_colour_is_history_without_a_colour_change(make_person, assess, facts):
    person = make_person(GRID)
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=AT - DAY, identified_at=AT)}
    assess(person, at=AT)
    changed_at = code_of(person).changed_at

    facts[str(person.pk)]["case"] = CaseStatus(status="confirmed", since=AT + DAY)
    assess(person, at=AT + DAY)

    code = code_of(person)
    assert code.colour == "red"
    assert "colour/case" in [r["rule"] for r in code.reasons]
    # the colour in a token issued before is still right: not stale
    assert code.changed_at == changed_at and code.colour_since == AT
    latest = history(person)[0]
    assert (latest.old_colour, latest.new_colour, latest.colour_changed) == ("red", "red", False)


def test_an_unchanged_decision_writes_no_history(make_person, assess):
    person = make_person(GRID)
    assess(person, at=AT)
    assess(person, at=AT + DAY)
    assess(person, at=AT + 2 * DAY)

    assert ColourChange.objects.filter(person=person).count() == 1


def test_a_bulk_reassessment_records_every_code_in_one_pass(make_person, system, facts):
    from epigrid.rules.services import reassess_many

    people = [make_person(GRID, name=f"李{i}") for i in range(30)]
    for p in people[:10]:
        facts[str(p.pk)] = {"contact": ContactStatus(kind="close", last_exposure=AT - DAY, identified_at=AT)}

    result = reassess_many([p.pk for p in people], actor=system, at=AT, cause="bulk", batch_size=12)

    assert result.evaluated == 30
    colours = dict(HealthCode.objects.filter(person__in=people).values_list("person_id", "colour"))
    assert sum(c == "red" for c in colours.values()) == 10 and len(colours) == 30
    assert ColourChange.objects.filter(person__in=people).count() == 30
    assert len({c.code_id for c in HealthCode.objects.filter(person__in=people)}) == 30


def test_a_person_assessed_before_codes_existed_gets_one_from_the_stored_decision(make_person, assess, facts):
    person = make_person(GRID)
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=AT - DAY, identified_at=AT)}
    assess(person, at=AT)
    ColourChange.objects.filter(person=person).delete()
    HealthCode.objects.filter(person=person).delete()

    code = ensure_code(person)

    assert code.colour == "red"
    assert code.release_at == AT - DAY + 14 * DAY
    assert [r["rule"] for r in code.reasons] == ["colour/close-contact"]
    assert ColourChange.objects.get(person=person).new_colour == "red"


def test_a_person_never_assessed_is_assessed_when_the_code_is_first_needed(make_person):
    person = make_person(GRID)
    assert not PersonRuleState.objects.filter(person=person).exists()

    code = ensure_code(person)

    assert code.colour == "green"
    assert PersonRuleState.objects.filter(person=person).exists()
    assert ensure_code(person).pk == code.pk


def test_a_move_to_another_division_follows_on_the_next_decision(make_person, assess, facts, system):
    from epigrid.people.services import PersonChanges, update_person

    person = make_person(GRID)
    assess(person, at=AT)
    person = update_person(
        actor=system, person=person, changes=PersonChanges(division_code="320583001001002")
    )
    facts[str(person.pk)] = {"contact": ContactStatus(kind="close", last_exposure=AT, identified_at=AT)}

    assess(person, at=AT + DAY)

    assert code_of(person).division_code == "320583001001002"
    assert history(person)[0].division_code == "320583001001002"


def test_merging_records_keeps_the_survivors_code_and_withdraws_the_other(make_person, assess):
    survivor, merged = make_person(GRID, name="王芳"), make_person(GRID, name="王芳")
    assess(merged, at=AT)
    ensure_code(survivor)
    kept = code_of(survivor).code_id

    # people.services.merge_persons calls this hook for the health code's link to Person
    HealthCode.on_person_merge(survivor=survivor, merged=merged)

    assert code_of(survivor).code_id == kept
    assert code_of(merged).revoked_at is not None
    with pytest.raises(HealthCodeError):
        issue_token(code_of(merged))


def test_a_survivor_without_a_code_takes_the_merged_records_code_and_history(make_person, assess):
    survivor, merged = make_person(GRID, name="王芳"), make_person(GRID, name="王芳")
    assess(merged, at=AT)
    theirs = code_of(merged).code_id

    assert HealthCode.on_person_merge(survivor=survivor, merged=merged) == 1

    assert code_of(survivor).code_id == theirs
    assert ColourChange.objects.filter(person=survivor).count() == 1
