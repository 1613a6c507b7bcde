"""What the rules ask of a person and why, for people to read (R3.3, issue item 7).

Built from what is stored — the open MeasureRecords and the DecisionRecords with their pack
versions — never by evaluating again, so a page shows exactly what was decided, when, and
under which rule version. Texts come in the person's language (zh-hans or en); times are
China time (Asia/Shanghai), as the documents count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import translation

from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules import engine
from epigrid.rules.models import CAUSE_LABELS, DecisionRecord, MeasureRecord, MeasureStatus, PersonRuleState
from epigrid.rules.services import OPEN_STATES


def lang_of(language: str | None) -> str:
    return "zh-hans" if (language or "zh-hans").lower().startswith("zh") else "en"


def _local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(CHINA_TZ) if moment is not None else None


def _measure_from_dict(data: dict) -> engine.Measure:
    return engine.Measure(
        kind=data["kind"],
        params=data.get("params") or {},
        start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
        end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
        counted_from=data.get("counted_from"),
        state=data.get("state", ""),
        rule=data.get("rule", ""),
        requirements=tuple(data.get("requirements") or ()),
        pack=data.get("pack", ""),
        pack_version=data.get("pack_version", 0),
        reason=data.get("reason") or {"zh-hans": "", "en": ""},
    )


@dataclass
class MeasureView:
    label: str
    kind: str
    state: str
    state_label: str
    reason: str
    clauses: list[str]
    rule: str
    pack: str
    pack_version: int
    starts_at: datetime | None
    ends_at: datetime | None
    is_test: bool
    overdue: bool


@dataclass
class ColourView:
    value: str
    label: str
    reasons: list[str]
    clauses: list[str]
    rules: list[str]
    release: str
    release_at: datetime | None


@dataclass
class HistoryEntry:
    at: datetime
    cause: str
    cause_label: str
    colour: str
    colour_label: str
    previous_colour: str | None
    previous_colour_label: str
    opened: list[str]
    closed: list[str]
    packs: list[str]


@dataclass
class Explanation:
    language: str
    assessed: bool
    evaluated_at: datetime | None = None
    next_review_at: datetime | None = None
    colour: ColourView | None = None
    measures: list[MeasureView] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)


# a test whose time limit had passed before it was asked of the person (declared late): not
# "overdue" as if they had let it lapse, but what the staff task says too (tasks_for_measures)
_OPENED_LATE = ("已过检测时限，请尽快检测", "past the test's time limit: test at once")


def opened_late(rec: MeasureRecord) -> bool:
    return rec.kind == "test" and rec.ends_at is not None and rec.opened_at >= rec.ends_at


def measure_view(rec: MeasureRecord, lang: str) -> MeasureView:
    measure = rec.as_measure()
    overdue = rec.state in ("overdue", "missed")
    if overdue and opened_late(rec):
        state_label = _OPENED_LATE[0 if lang == "zh-hans" else 1]
    else:
        state_label = engine.state_label(rec.state, lang)
    return MeasureView(
        label=engine.measure_label(measure, lang),
        kind=rec.kind,
        state=rec.state,
        state_label=state_label,
        reason=rec.reason_zh if lang == "zh-hans" else rec.reason_en,
        clauses=list(rec.requirements),
        rule=rec.rule_id,
        pack=rec.pack_id,
        pack_version=rec.pack_version,
        starts_at=_local(rec.starts_at),
        ends_at=_local(rec.ends_at),
        is_test=rec.kind == "test",
        overdue=overdue,
    )


def colour_view(result: dict, lang: str) -> ColourView | None:
    colour = (result or {}).get("colour")
    if not colour:
        return None
    release = colour.get("release") or {}
    release_at = colour.get("release_at")
    return ColourView(
        value=colour["value"],
        label=engine.colour_label(colour["value"], lang),
        reasons=[r.get(lang, "") for r in colour.get("reasons", ())],
        clauses=list(colour.get("requirements", ())),
        rules=list(colour.get("rules", ())),
        release=release.get(lang, ""),
        release_at=_local(datetime.fromisoformat(release_at)) if release_at else None,
    )


def _open_keys(result: dict) -> dict[str, dict]:
    out = {}
    for m in (result or {}).get("measures", ()):
        if m.get("state") in OPEN_STATES:
            key = f"{m.get('rule')}|{m.get('kind')}|{m.get('counted_from') or '-'}|{m.get('start') or '-'}"
            out[key] = m
    return out


def _cause_label(cause: str, lang: str) -> str:
    if cause not in CAUSE_LABELS:
        return cause
    with translation.override(lang):
        return str(CAUSE_LABELS[cause])


def history(person, lang: str, limit: int = 20) -> list[HistoryEntry]:
    """The decisions of a person, newest first: when and why each changed, what opened and
    closed, the colour before and after, and the pack versions used."""
    records = list(
        DecisionRecord.objects.filter(person=person)
        .order_by("-created_at", "-evaluated_at")
        .only("evaluated_at", "created_at", "cause", "colour", "result", "packs")[: limit + 1]
    )
    entries = []
    for i, rec in enumerate(records[:limit]):
        previous = records[i + 1] if i + 1 < len(records) else None
        now_open = _open_keys(rec.result)
        before_open = _open_keys(previous.result) if previous is not None else {}
        packs = [f"{p['id']}@{p['version']}" for p in (rec.packs or []) if p.get("used", True)]
        entries.append(
            HistoryEntry(
                at=_local(rec.evaluated_at),
                cause=rec.cause,
                cause_label=_cause_label(rec.cause, lang),
                colour=rec.colour,
                colour_label=engine.colour_label(rec.colour, lang),
                previous_colour=previous.colour if previous is not None else None,
                previous_colour_label=(
                    engine.colour_label(previous.colour, lang) if previous is not None else ""
                ),
                opened=[
                    engine.measure_label(_measure_from_dict(m), lang)
                    for k, m in now_open.items()
                    if k not in before_open
                ],
                closed=[
                    engine.measure_label(_measure_from_dict(m), lang)
                    for k, m in before_open.items()
                    if k not in now_open
                ],
                packs=packs,
            )
        )
    return entries


def explain_person(person, language: str | None, *, with_history: bool = False) -> Explanation:
    lang = lang_of(language)
    state = PersonRuleState.objects.filter(person=person).select_related("decision").first()
    if state is None:
        return Explanation(language=lang, assessed=False)
    records = MeasureRecord.objects.filter(person=person, status=MeasureStatus.OPEN).order_by(
        "ends_at", "starts_at", "kind"
    )
    explanation = Explanation(
        language=lang,
        assessed=True,
        evaluated_at=_local(state.evaluated_at),
        next_review_at=_local(state.next_review_at),
        colour=colour_view(state.decision.result, lang),
        measures=[measure_view(rec, lang) for rec in records],
    )
    if with_history:
        explanation.history = history(person, lang)
    return explanation
