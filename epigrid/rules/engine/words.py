"""The words of a decision as shown to people: measure, state and colour labels, and
`explain`'s one line per measure and colour, in zh-hans or en."""

from __future__ import annotations

from datetime import datetime

from epigrid.lib.chinatime import CHINA_TZ

from .decision import Decision, Measure

_TEST_NAMES = {
    "nucleic_acid": ("核酸检测", "nucleic-acid"),
    "serology": ("血清学检测", "serology"),
    "serology_igm": ("IgM抗体检测", "IgM antibody"),
    "serology_igg": ("IgG抗体检测", "IgG antibody"),
    "rapid_antigen": ("抗原快速检测", "rapid antigen"),
}
_QUARANTINE_NAMES = {
    "centralized": ("集中隔离", "Centralized quarantine"),
    "home": ("居家隔离", "Home quarantine"),
    "hospital": ("定点医院隔离治疗", "Isolation in a designated hospital"),
}
_STATE_NAMES = {
    "upcoming": ("未开始", "upcoming"),
    "active": ("进行中", "active"),
    "ended": ("已结束", "ended"),
    "due": ("待完成", "due"),
    "overdue": ("已逾期", "overdue"),
    "satisfied": ("已完成", "done"),
    "missed": ("未按时完成", "missed"),
    "unscheduled": ("起始时间待定", "start not on record"),
}
_COLOUR_NAMES = {"green": ("绿码", "green"), "yellow": ("黄码", "yellow"), "red": ("红码", "red")}


def state_label(state: str, lang: str = "zh-hans") -> str:
    """A measure state as shown to people: `overdue` → 已逾期 / overdue."""
    names = _STATE_NAMES.get(state)
    return names[0 if lang == "zh-hans" else 1] if names else state


def colour_label(colour: str, lang: str = "zh-hans") -> str:
    names = _COLOUR_NAMES.get(colour)
    return names[0 if lang == "zh-hans" else 1] if names else colour


def _when(moment: datetime | None) -> str:
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if moment is not None else "?"


_RESTRICTION_NAMES = {
    "commute_only": ("除上下班外不外出", "Out only to commute to work"),
    "no_gatherings": ("不组织、参与聚餐聚会", "No dinners or gatherings"),
    "no_school_entry": ("暂不入校", "No entry to school"),
}
_PERIOD_NAMES = {
    "health_monitoring": ("每日健康监测", "Daily health monitoring"),
    "closed_loop": ("闭环管理", "Closed-loop management"),
    "grid_management": ("纳入社区网格化管理", "Community grid management"),
    "follow_up": ("跟踪随访", "Follow-up"),
}


def measure_label(measure: Measure, lang: str = "zh-hans") -> str:
    zh = lang == "zh-hans"
    p = measure.params
    kind = measure.kind
    if kind == "test":
        return _test_text(measure, zh)
    if kind == "advance_report":
        return "提前报备行程" if zh else "Report the journey in advance"
    if kind == "exempt":
        rules = ", ".join(p.get("from_rules") or ()) or "-"
        return f"免于 {rules}" if zh else f"Exempt from {rules}"
    days = p.get("days")
    span = f"{_when(measure.start)} → {_when(measure.end)}"
    if measure.end is None:  # until released: no end to show, not a "?"
        span = f"自{_when(measure.start)}起" if zh else f"from {_when(measure.start)}"
    if kind == "quarantine":
        name = _quarantine_name(p, zh)
        length = (f"{days}天" if zh else f"{days} days") if days else ("至解除" if zh else "until released")
        return f"{name}，{length}，{span}" if zh else f"{name}, {length}, {span}"
    if kind == "restriction":
        name = _RESTRICTION_NAMES[p["scope"]][0 if zh else 1]
        return f"{name}，{days}天，{span}" if zh else f"{name}, {days} days, {span}"
    name = _PERIOD_NAMES[kind][0 if zh else 1]
    if kind == "follow_up" and p.get("home_self_isolation"):
        name += "（居家自我隔离）" if zh else " with home self-isolation"
    if days:
        return f"{name}，{days}天，{span}" if zh else f"{name}, {days} days, {span}"
    return f"{name}，自{_when(measure.start)}起" if zh else f"{name}, from {_when(measure.start)}"


def _test_text(measure: Measure, zh: bool) -> str:
    p = measure.params
    names = [_TEST_NAMES[t][0 if zh else 1] for t in p["tests"]]
    if zh:
        return "、".join(names) + ("（免费）" if p.get("free") else "") + f"，{_when(measure.end)}前完成"
    return (
        " and ".join(names).capitalize()
        + (" tests" if len(names) > 1 else " test")
        + (", free of charge" if p.get("free") else "")
        + f", due {_when(measure.end)}"
    )


def _quarantine_name(p, zh: bool) -> str:
    name = _QUARANTINE_NAMES[p["quarantine"]][0 if zh else 1]
    if p.get("alternative"):
        alt = _QUARANTINE_NAMES[p["alternative"]]
        name += f"或{alt[0]}" if zh else f" or {alt[1].lower()}"
    if p.get("place") == "first_entry_point":
        name = "在第一入境点" + name if zh else name + " at the first entry point"
    return name


def explain(decision: Decision, lang: str = "zh-hans") -> list[str]:
    """One line per measure, "measure [state] — reason (clauses)", then one for the colour."""
    if lang not in ("zh-hans", "en"):
        raise ValueError(f"lang must be zh-hans or en, got {lang!r}")
    zh = lang == "zh-hans"
    lines = []
    for m in decision.measures:
        state = _STATE_NAMES[m.state][0 if zh else 1]
        lines.append(f"{measure_label(m, lang)} [{state}] — {m.reason[lang]} ({', '.join(m.requirements)})")
    colour = decision.colour
    if colour is not None:
        name = _COLOUR_NAMES[colour.value][0 if zh else 1]
        reasons = ("；" if zh else "; ").join(r[lang] for r in colour.reasons)
        head = f"健康码：{name}" if zh else f"Health code: {name}"
        line = f"{head} — {reasons} ({', '.join(colour.requirements)})"
        if colour.release:
            line += f"；解除条件：{colour.release[lang]}" if zh else f"; clears with: {colour.release[lang]}"
            if colour.release_at is not None:
                line += (
                    f"（预计 {_when(colour.release_at)}）"
                    if zh
                    else f" (expected {_when(colour.release_at)})"
                )
        lines.append(line)
    return lines
