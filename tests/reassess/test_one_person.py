"""reassess: the decision is stored with its facts and pack versions, measures open as records
with tasks for the grid worker, and nothing is written when nothing changed (R3.2, R3.3, R10.1)."""

from datetime import date, timedelta

from epigrid.accounts.models import AuditEvent
from epigrid.rules.models import DecisionRecord, MeasureRecord, PersonRuleState
from epigrid.rules.services.evaluation import Evaluator
from epigrid.rules.services.person_facts import facts_for
from epigrid.rules.services.population import Population, persons_of
from epigrid.rules.services.sweeping import reassess, reassess_many
from epigrid.tasks.models import Task

from .conftest import AT, t


def test_it_opens_measures_and_tasks_for_a_key_area_returnee(book, listing, make_person, cell, system):
    listing("420000", "key", date(2020, 1, 23), notice="key-area list")
    person = book.arrival(make_person(cell.code, name="李雷"), at=t(6, 15), origin="420102")

    result = reassess(person, actor=system, at=AT, cause="declaration")

    assert result.changed == 1
    state = PersonRuleState.objects.get(person=person)
    assert state.colour == "red" and state.division_code == cell.code
    assert state.next_review_at is not None and state.next_review_at > AT
    open_measures = {(m.kind, m.rule_id) for m in MeasureRecord.objects.filter(person=person, status="open")}
    assert ("quarantine", "KS10-3/key-area-returnee") in open_measures
    assert ("health_monitoring", "KS10-3/key-area-returnee") in open_measures
    quarantine = MeasureRecord.objects.get(person=person, kind="quarantine")
    # dated from the stored arrival, never from when the rules ran
    assert quarantine.starts_at == t(6, 15) and quarantine.ends_at == t(6, 29)
    assert quarantine.requirements == ["KS10-3", "KS10-14"] and quarantine.pack_id == "kunshan-2020-10"
    decision = DecisionRecord.objects.get(person=person)
    assert decision.cause == "declaration" and decision.colour == "red"
    assert {p["id"] for p in decision.packs if p["used"]} >= {"kunshan-2020-10", "colour-sukangma"}
    assert all(p["fingerprint"] for p in decision.packs)
    assert decision.facts["travel"][0]["area"] == "420102"
    assert [e["area"] for e in decision.facts["risk"]["areas"]] == ["42"]
    assert all(entry["outcome"] != "not_matched" for entry in decision.result["trace"])
    tasks = Task.objects.filter(person=person, status="open")
    assert tasks.count() == MeasureRecord.objects.filter(person=person, status="open").count()
    task = tasks.get(kind="measure_quarantine")
    assert task.assignee == "grid_worker" and task.division_code == cell.code
    assert task.title_zh.startswith("李雷：") and "KS10-3" in task.detail_en
    assert AuditEvent.objects.filter(object_type="person_rules", object_id=str(person.pk)).count() == 1


def test_it_writes_nothing_when_the_decision_did_not_change(book, listing, make_person, cell, system):
    listing("420000", "key", date(2020, 1, 23))
    person = book.arrival(make_person(cell.code), at=t(6, 15), origin="420102")
    reassess(person, actor=system, at=AT)

    again = reassess(person, actor=system, at=AT + timedelta(hours=1))

    assert again.evaluated == 1 and again.changed == 0
    assert DecisionRecord.objects.filter(person=person).count() == 1
    assert Task.objects.filter(person=person).count() == MeasureRecord.objects.filter(person=person).count()


def test_it_closes_measures_and_cancels_their_tasks_when_no_longer_asked(
    book, listing, make_person, cell, system
):
    from epigrid.regions.services import risk

    key = listing("420000", "key", date(2020, 1, 23))
    person = book.arrival(make_person(cell.code), at=t(6, 15), origin="420102")
    reassess(person, actor=system, at=AT)
    from_list = MeasureRecord.objects.filter(person=person, status="open", rule_id="KS10-3/key-area-returnee")
    assert from_list.count() == 2
    # JS79-13 asks the Wuhan tests of anyone who stayed in Wuhan, listed or not
    assert MeasureRecord.objects.filter(person=person, status="open", rule_id="JS79-13/wuhan").count() == 1

    risk.apply_change(actor=system, publish=[], withdraw=[key.pk], at=AT)
    result = reassess(person, actor=system, at=AT + timedelta(minutes=5), cause="risk_change")

    assert result.changed == 1 and {r.rule_id for r in result.closed} == {"KS10-3/key-area-returnee"}
    assert len(result.closed) == 2 and not result.opened
    assert list(
        MeasureRecord.objects.filter(person=person, status="open").values_list("rule_id", flat=True)
    ) == ["JS79-13/wuhan"]
    closed_tasks = Task.objects.filter(person=person, status="cancelled", outcome="measure_closed")
    assert closed_tasks.count() == 2
    assert Task.objects.filter(person=person, status="open").count() == 1
    assert PersonRuleState.objects.get(person=person).colour == "green"
    assert DecisionRecord.objects.filter(person=person).count() == 2


def test_time_alone_moves_a_test_from_due_to_overdue_in_the_same_record(book, make_person, cell, system):
    person = book.arrival(make_person(cell.code), at=t(6, 19, 20), origin="420100")
    reassess(person, actor=system, at=t(6, 19, 21))
    test = MeasureRecord.objects.get(person=person, kind="test", status="open")
    assert test.state == "due" and test.ends_at == t(6, 20, 8)
    state = PersonRuleState.objects.get(person=person)
    assert state.next_review_at == t(6, 20, 8)

    result = reassess(person, actor=system, at=t(6, 20, 9))

    assert result.changed == 1 and not result.opened and not result.closed
    test.refresh_from_db()
    assert test.state == "overdue" and test.status == "open"


def test_a_fact_less_person_gets_a_plain_green_decision_and_a_snapshot_like_the_engines(
    make_person, cell, system
):
    person = make_person(cell.code, birth=date(1985, 3, 1))
    reassess(person, actor=system, at=AT)
    decision = DecisionRecord.objects.get(person=person)
    assert decision.colour == "green"
    evaluator = Evaluator(AT)
    expected = facts_for(person, None, evaluator.risk).trimmed().to_dict()
    assert decision.facts == expected


def test_people_alike_to_the_rules_share_one_evaluation(make_person, grid_cells, system):
    people = [make_person(grid_cells[i % 3].code, birth=date(1990, 5, 17)) for i in range(6)]
    evaluator = Evaluator(AT)
    evaluated = evaluator.evaluate(people)
    assert evaluator.engine_calls == 1 and evaluator.shared == 5
    assert len({e.fingerprint for e in evaluated}) == 1


def test_merging_two_assessed_records_keeps_one_state_and_reviews_the_survivor(
    book, listing, make_person, cell, persona, system, clock
):
    from epigrid.accounts.audit import Actor
    from epigrid.people.services import merge_persons

    listing("420000", "key", date(2020, 1, 23))
    survivor = make_person(cell.code, name="张伟")
    duplicate = book.arrival(
        make_person(cell.code, name="张伟", birth=date(1991, 1, 1)), at=t(6, 15), origin="420102"
    )
    reassess_many([survivor.pk, duplicate.pk], actor=system, at=AT)
    assert PersonRuleState.objects.get(person=duplicate).colour == "red"

    merge_persons(actor=Actor(user=persona("cdc")), survivor=survivor, merged=duplicate, reason="manual")

    assert not PersonRuleState.objects.filter(person=duplicate).exists()
    state = PersonRuleState.objects.get(person=survivor)
    assert state.next_review_at is not None and state.next_review_at <= clock.now
    # the duplicate's decisions and open measures now belong to the survivor
    assert DecisionRecord.objects.filter(person=survivor).count() == 2
    assert MeasureRecord.objects.filter(person=survivor, status="open").exists()


def test_the_persons_a_sweep_hands_to_facts_sources_are_deferred_instances_of_the_db_read(make_person, cell):
    """Sweeps make their Person instances from the rows they read (`Model.from_db`): deferred
    fields load on access, lookups accept them, and they belong to the database they came from
    (a replica when the read was routed there, never a hard-coded alias)."""
    from epigrid.people.models import Person
    from epigrid.rules.models import DecisionRecord, SweepRow

    p = make_person(cell.code, name="王五")
    qs = Population().queryset().filter(pk=p.pk)
    rows = [SweepRow._make(r) for r in qs.values_list(*SweepRow._fields)]
    persons, stored = persons_of(rows, qs.db)
    light = persons[0]
    # what the fast path (`population._light_person`) relies on: from_db's instance is its
    # loaded attnames in __dict__ and a state of `adding` and `db`, nothing else
    loaded = ["id", "birth_date", "nationality", "division_code"]
    full = Person.from_db(qs.db, loaded, [getattr(rows[0], name) for name in loaded])
    assert {k: v for k, v in vars(full).items() if k != "_state"} == {
        k: v for k, v in vars(light).items() if k != "_state"
    }
    assert vars(full._state) == vars(light._state) == {"db": qs.db, "adding": False}
    assert light.get_deferred_fields() == full.get_deferred_fields()
    assert light.pk == p.pk and light.name == "王五" and light == p
    assert stored == {p.pk: None}
    assert persons_of(rows, "replica")[0][0]._state.db == "replica"
    assert list(DecisionRecord.objects.filter(person__in=[light])) == []  # sources pass them like this


def test_the_records_handlers_get_are_the_rows_as_written(book, listing, make_person, cell, system):
    """The DecisionRecord and MeasureRecord instances handed to handlers and listeners are made
    from the typed rows the batch inserted: equal, field by field, to the rows read back, and
    bound to the database written to."""
    from django.db import router

    from epigrid.rules.models import DecisionRecord, MeasureRecord

    listing("420000", "key", date(2020, 1, 23), notice="key-area list")
    person = book.arrival(make_person(cell.code), at=t(6, 15), origin="420102")
    result = reassess(person, actor=system, at=AT)
    assert len(result.opened) >= 2
    for rec in result.opened:
        stored = MeasureRecord.objects.get(pk=rec.pk)
        for f in MeasureRecord._meta.concrete_fields:
            assert getattr(rec, f.attname) == getattr(stored, f.attname), f.name
        assert rec._state.adding is False and rec._state.db == router.db_for_write(MeasureRecord)
        assert rec.decision == DecisionRecord.objects.get(person=person)


def _field_nodes(node) -> int:
    return (node.op == "field") + sum(_field_nodes(child) for child in node.children)


def test_people_alike_are_told_apart_by_the_person_fields_the_packs_compare():
    """`person_dependence` reads the field paths from the conditions as the packs state them;
    it finds every field comparison the compiled rules make, in every shipped pack."""
    import copy

    from epigrid.rules.packs import RuleSet, default_library, parse_pack
    from epigrid.rules.services.evaluation import _conditions, _field_paths, person_dependence

    library = default_library()
    for pack in library.packs:
        rs = RuleSet([pack])
        for rule, condition in zip(rs.rules, _conditions(rs), strict=True):
            assert len(list(_field_paths(condition))) == _field_nodes(rule.condition), rule.id
    pack = copy.deepcopy(dict(library.packs[0].raw))
    pack["rules"] = [
        {
            **pack["rules"][0],
            "when": {
                "all": [{"field": "age", "ge": 60}, {"not": {"field": "case.status", "eq": "confirmed"}}]
            },
        }
    ]
    assert person_dependence(RuleSet([parse_pack(pack, "")])) == {"age"}
    pack["rules"][0]["when"] = {"any": [{"field": "identity.nationality", "eq": "US"}, "always"]}
    assert person_dependence(RuleSet([parse_pack(pack, "")])) == {"nationality"}
