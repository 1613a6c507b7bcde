"""A malformed pack fails to load with an error naming the file, the rule and the problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from django.utils import translation

from epigrid.lib.errors import DomainError
from epigrid.rules import PackError, load_pack, parse_pack
from epigrid.rules.clauses import KNOWN_CLAUSES
from epigrid.rules.packs import PACKS_DIR, PackLibrary
from tests.shared_data import shared_path

GOOD_RULE = {
    "id": "JS79-13/wuhan",
    "requirements": ["JS79-13"],
    "when": {"travel_within": {"days": 14, "area": "420100"}},
    "measures": [{"kind": "test", "tests": ["nucleic_acid", "serology"]}],
    "reason": {
        "zh-hans": "到达前14天内有武汉市旅居史。",
        "en": "Stayed in Wuhan within 14 days before arrival.",
    },
}
GOOD_PACK = {
    "id": "sample-pack",
    "version": 1,
    "title": {"zh-hans": "样例", "en": "Sample"},
    "source": {"document": "样例文件", "number": "样〔2020〕1号", "date": "2020-04-01"},
    "jurisdiction": "32",
    "valid_from": "2020-04-01",
    "valid_to": None,
    "rules": [GOOD_RULE],
}


HOME = {"kind": "quarantine", "quarantine": "home", "days": 14}


def with_rule(**changes):
    data = copy.deepcopy(GOOD_PACK)
    rule = data["rules"][0]
    for key, value in changes.items():
        if value is None:
            rule.pop(key, None)
        else:
            rule[key] = value
    return data


def with_pack(**changes):
    data = copy.deepcopy(GOOD_PACK)
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return data


def test_the_sample_pack_is_valid():
    pack = parse_pack(GOOD_PACK, "sample-pack.yaml")
    assert pack.rules[0].id == "JS79-13/wuhan"
    assert len(pack.fingerprint) == 64


RULE_ERRORS = [
    pytest.param(with_rule(colur="red"), "unknown key(s) ['colur']", id="unknown rule key"),
    pytest.param(
        with_rule(measures=[{"kind": "quarantin", "days": 14}]),
        "unknown measure kind 'quarantin'",
        id="unknown measure kind",
    ),
    pytest.param(
        with_rule(measures=[{"kind": "quarantine", "quarantine": "home"}]),
        "days is required",
        id="quarantine without days",
    ),
    pytest.param(
        with_rule(measures=[{"kind": "test", "tests": ["pcr"]}]),
        "'pcr' is not one of",
        id="unknown test kind",
    ),
    pytest.param(
        with_rule(measures=[{"kind": "test", "tests": ["nucleic_acid"], "due": 12}]),
        "unknown parameter(s) ['due']",
        id="unknown measure parameter",
    ),
    pytest.param(
        with_rule(measures=[{"kind": "health_monitoring", "days": 0}]),
        "days must be a whole number ≥ 1",
        id="zero days",
    ),
    pytest.param(
        with_rule(measures=[{"kind": "exempt", "from": ["landing"]}]),
        "'landing' is not one of",
        id="unknown event",
    ),
    pytest.param(
        with_rule(when={"travel_inside": {"days": 14}}),
        "unknown condition operator 'travel_inside'",
        id="unknown operator",
    ),
    pytest.param(
        with_rule(when={"travel_within": {"days": 14}}),
        "give exactly one of area or areas",
        id="travel_within without area",
    ),
    pytest.param(
        with_rule(when={"travel_within": {"days": 14, "area": "420100", "since": "arrival"}}),
        "unknown parameter(s) ['since']",
        id="unknown operator parameter",
    ),
    pytest.param(
        with_rule(when={"travel_within": {"days": 14, "areas": [False]}}),
        "quote country codes",
        id="YAML NO read as false",
    ),
    pytest.param(
        with_rule(when={"travel_within": {"days": 14, "area": "Wuhan"}}),
        "not a GB/T 2260 division code",
        id="area by name",
    ),
    pytest.param(with_rule(when={"all": []}), "non-empty list", id="empty all"),
    pytest.param(
        with_rule(when={"not": "always", "any": ["always"]}),
        "exactly one operator",
        id="two operators in one mapping",
    ),
    pytest.param(with_rule(when="overseas"), "unknown condition 'overseas'", id="unknown bare condition"),
    pytest.param(
        with_rule(when={"field": "arrival.porpose", "eq": "business_visit"}),
        "unknown field 'arrival.porpose'",
        id="unknown field",
    ),
    pytest.param(
        with_rule(when={"field": "arrival.purpose", "eq": "business"}),
        "'business' is not one of",
        id="value outside the vocabulary",
    ),
    pytest.param(
        with_rule(when={"field": "arrival.purpose", "lt": 3}),
        "does not fit a str field",
        id="number compared with text",
    ),
    pytest.param(
        with_rule(when={"field": "arrival.purpose", "like": "b%"}),
        "give exactly one comparison",
        id="unknown comparison",
    ),
    pytest.param(
        with_rule(when={"has_test": {"kinds": ["nucleic_acid"], "within_days": 7, "since": "arrival"}}),
        "not both",
        id="two test windows",
    ),
    pytest.param(
        with_rule(when={"case_status": ["infected"]}), "'infected' is not one of", id="unknown case status"
    ),
    pytest.param(
        with_rule(requirements=["JS79-99"]), "requirement 'JS79-99' is not a clause", id="unknown requirement"
    ),
    pytest.param(with_rule(requirements=[]), "requirements must list", id="no requirements"),
    pytest.param(
        with_rule(reason={"zh-hans": "原因"}), "reason: missing en text", id="missing English reason"
    ),
    pytest.param(
        with_rule(reason={"en": "reason", "zh-hans": "  "}),
        "reason: missing zh-hans text",
        id="blank Chinese reason",
    ),
    pytest.param(
        with_rule(reason={"en": "x", "zh-hans": "y", "zh": "z"}),
        "unknown language(s) ['zh']",
        id="unknown language",
    ),
    pytest.param(with_rule(when=None), "when is required", id="missing condition"),
    pytest.param(with_rule(measures=[]), "at least one measure or a colour", id="rule that does nothing"),
    pytest.param(with_rule(colour={"value": "orange"}), "colour value must be one of", id="unknown colour"),
    pytest.param(with_rule(colour={"value": "red"}), "needs a release", id="red without release"),
    pytest.param(
        with_rule(colour={"value": "red", "release": {"text": {"en": "x"}}}),
        "missing zh-hans text",
        id="release without Chinese",
    ),
    pytest.param(with_rule(priority="high"), "priority must be a whole number", id="priority as text"),
    pytest.param(
        with_rule(overrides={"rules": "JS79-13/*"}), "list of rule id patterns", id="overrides not a list"
    ),
    pytest.param(
        with_rule(overrides={"measures": ["quarantin"]}),
        "'quarantin' is not one of",
        id="override of an unknown measure kind",
    ),
    # the exception to "red while isolation runs, at least yellow under monitoring"
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": {"at_least": "yellow"}}]),
        "code_colour: requirements must list the clause that states the exception",
        id="code_colour without a clause",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": {"at_least": "yellow", "requirements": []}}]),
        "code_colour: requirements must list the clause",
        id="code_colour with an empty clause list",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": {"at_least": "yellow", "requirements": ["JS79-99"]}}]),
        "code_colour: requirement 'JS79-99' is not a clause of the source documents",
        id="code_colour citing an unknown clause",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": {"at_least": "red", "requirements": ["JS79-12"]}}]),
        "at_least red does not lower the red a running quarantine holds the code at",
        id="code_colour that lowers nothing",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": {"at_least": "amber", "requirements": ["JS79-12"]}}]),
        "at_least must be one of green, yellow, red, got 'amber'",
        id="code_colour with an unknown colour",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": {"at_least": "yellow", "clause": "JS79-12"}}]),
        "code_colour: unknown key(s) ['clause']",
        id="code_colour with an unknown key",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "code_colour": "yellow"}]),
        "code_colour must be a mapping with at_least and requirements",
        id="code_colour as a bare colour",
    ),
    pytest.param(
        with_rule(
            measures=[
                {
                    "kind": "test",
                    "tests": ["nucleic_acid"],
                    "code_colour": {"at_least": "green", "requirements": ["JS79-12"]},
                }
            ]
        ),
        "only a measure that holds the code at a colour takes an exception",
        id="code_colour on a test",
    ),
    pytest.param(
        with_rule(
            measures=[
                {
                    "kind": "follow_up",
                    "days": 14,
                    "code_colour": {"at_least": "green", "requirements": ["JS79-12"]},
                }
            ]
        ),
        "only a measure that holds the code at a colour takes an exception",
        id="code_colour on a follow-up without home self-isolation",
    ),
    # how long the responsible person has for the measure's task
    pytest.param(
        with_rule(measures=[{**HOME, "task_due_hours": 0}]),
        "task_due_hours must be a whole number ≥ 1, got 0",
        id="task_due_hours of zero",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "task_due_hours": 1.5}]),
        "task_due_hours must be a whole number ≥ 1, got 1.5",
        id="task_due_hours not whole",
    ),
    pytest.param(
        with_rule(measures=[{**HOME, "task_due_hours": True}]),
        "task_due_hours must be a whole number ≥ 1, got True",
        id="task_due_hours as true",
    ),
]


@pytest.mark.parametrize(("data", "message"), RULE_ERRORS)
def test_rule_errors_name_the_file_and_rule(data, message):
    with pytest.raises(PackError) as caught:
        parse_pack(data, "sample-pack.yaml")
    text = str(caught.value)
    assert text.startswith("sample-pack.yaml: rule JS79-13/wuhan: "), text
    assert message in text, text
    assert (caught.value.file, caught.value.rule) == ("sample-pack.yaml", "JS79-13/wuhan")


PACK_ERRORS = [
    pytest.param(with_pack(valid_form="2020-04-01"), "unknown key(s) ['valid_form']", id="unknown pack key"),
    pytest.param(with_pack(rules=...), "missing key(s) ['rules']", id="missing rules"),
    pytest.param(with_pack(id="Sample Pack"), "id must be lower-case words", id="bad pack id"),
    pytest.param(
        with_pack(id="other-pack"), "file name must be other-pack.yaml", id="file name differs from id"
    ),
    pytest.param(with_pack(version=0), "version must be a whole number ≥ 1", id="version zero"),
    pytest.param(
        with_pack(jurisdiction="Jiangsu"), "jurisdiction must be a GB/T 2260 code", id="jurisdiction by name"
    ),
    pytest.param(with_pack(valid_to="2020-03-01"), "valid_to is before valid_from", id="validity backwards"),
    pytest.param(with_pack(valid_from="April 2020"), "valid_from must be a date", id="validity not a date"),
    pytest.param(
        with_pack(title={"en": "Sample"}), "title: missing zh-hans text", id="title without Chinese"
    ),
    pytest.param(
        with_pack(source={"document": "x", "date": "2020"}),
        "source.date must be YYYY-MM-DD",
        id="source date",
    ),
    pytest.param(
        with_pack(rules=[GOOD_RULE, GOOD_RULE]),
        "rule JS79-13/wuhan: duplicate rule id",
        id="duplicate rule id",
    ),
    pytest.param(with_pack(rules=[{**GOOD_RULE, "id": "bad id!"}]), "rule #1 needs an id", id="bad rule id"),
    pytest.param(with_pack(rules=[]), "rules must be a non-empty list", id="no rules"),
]


@pytest.mark.parametrize(("data", "message"), PACK_ERRORS)
def test_pack_errors_name_the_file(data, message):
    with pytest.raises(PackError) as caught:
        parse_pack(data, "sample-pack.yaml")
    assert str(caught.value).startswith("sample-pack.yaml: ")
    assert message in str(caught.value)


def test_yaml_problems_name_the_file(tmp_path: Path):
    broken = tmp_path / "sample-pack.yaml"
    broken.write_text("id: sample-pack\nid: again\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"sample-pack.yaml: not valid YAML: .*duplicate key 'id'"):
        load_pack(broken)
    broken.write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(PackError, match="sample-pack.yaml: not valid YAML"):
        load_pack(broken)


def test_a_directory_with_one_bad_pack_does_not_load(tmp_path: Path):
    for path in PACKS_DIR.glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / "kunshan-2020-10.yaml"
    target.write_text(
        target.read_text(encoding="utf-8").replace("kind: health_monitoring", "kind: monitoring", 1),
        encoding="utf-8",
    )
    with pytest.raises(
        PackError,
        match="kunshan-2020-10.yaml: rule KS10-3/key-area-returnee: unknown measure kind 'monitoring'",
    ):
        PackLibrary.from_directory(tmp_path)


def test_the_fingerprint_ignores_comments_and_layout(tmp_path: Path):
    original = PACKS_DIR / "xuchang-2020.yaml"
    copy_path = tmp_path / "xuchang-2020.yaml"
    copy_path.write_text(
        "# a new comment\n" + original.read_text(encoding="utf-8") + "\n\n", encoding="utf-8"
    )
    assert load_pack(copy_path).fingerprint == load_pack(original).fingerprint


def test_every_shipped_pack_cites_known_clauses_and_binds_as_documented():
    bindings = {
        "jiangsu-2020-79": "32",
        "kunshan-2020-10": "320583",
        "jiangxi-2020-57": "36",
        "xuchang-2020": "411000",
        "national-2020-182": "",
        "colour-sukangma": "",
    }
    packs = {p.id: p for p in PackLibrary.from_directory(PACKS_DIR).packs}
    assert {k: v.jurisdiction for k, v in packs.items()} == bindings
    for pack in packs.values():
        for rule in pack.rules:
            assert set(rule.requirements) <= KNOWN_CLAUSES


@pytest.mark.shared_data("REQUIREMENTS.md")
def test_every_requirement_id_is_a_known_clause():
    import re

    requirements = shared_path("REQUIREMENTS.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"`((?:JS79|KS10|JS125|NA182|JX57|XC)-[0-9.]+)`", requirements))
    assert cited, "no IDs found"
    assert cited - KNOWN_CLAUSES == set()


# Reasons describe the travel fact and the rule; they never label a place or its people.
DISCRIMINATING = (
    "疫区",
    "湖北人",
    "武汉人",
    "湖北籍",
    "Hubei people",
    "Wuhan people",
    "infected area",
    "epidemic zone",
)


def test_reasons_avoid_regional_discrimination():
    for pack in PackLibrary.from_directory(PACKS_DIR).packs:
        for rule in pack.rules:
            texts = list(rule.reason.values())
            if rule.colour and rule.colour.release_text:
                texts += list(rule.colour.release_text.values())
            for text in texts:
                for word in DISCRIMINATING:
                    assert word not in text, f"{pack.id} {rule.id}: {word}"


def test_an_exception_and_a_task_due_time_load_into_the_measure():
    measures = [
        {
            **HOME,
            "task_due_hours": 2,
            "code_colour": {"at_least": "yellow", "requirements": ["JS79-12"]},
        },
        {
            "kind": "health_monitoring",
            "days": 14,
            "code_colour": {"at_least": "green", "requirements": ["JS79-12"]},
        },
        {"kind": "closed_loop", "days": 14},
    ]
    isolation, monitoring, closed_loop = (
        parse_pack(with_rule(measures=measures), "sample-pack.yaml").rules[0].measures
    )
    assert (isolation.floor, isolation.floor_clauses) == ("yellow", ("JS79-12",))
    assert isolation.params["task_due_hours"] == 2
    assert isolation.params["code_colour"] == {"at_least": "yellow", "requirements": ["JS79-12"]}
    # green: the monitoring holds the code at nothing
    assert (monitoring.floor, monitoring.floor_clauses) == (None, ("JS79-12",))
    # no exception: the default floor, and nothing added to the params (fingerprints stay)
    assert (closed_loop.floor, closed_loop.floor_clauses) == ("yellow", ())
    assert set(closed_loop.params) == {"days"}


def test_pack_errors_read_in_the_language_in_force():
    data = with_rule(measures=[{"kind": "monitoring"}])
    with translation.override("zh-hans"), pytest.raises(PackError) as caught:
        parse_pack(data, "sample-pack.yaml")
    assert str(caught.value).startswith("sample-pack.yaml：规则 JS79-13/wuhan：未知的措施类型 'monitoring'")
    assert caught.value.code == "pack_invalid"
    assert isinstance(caught.value, DomainError)
