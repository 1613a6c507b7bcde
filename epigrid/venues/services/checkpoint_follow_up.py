"""What a checkpoint record sets going (R5.3; KS10-11, KS10-12): the work the gate rules name
becomes tasks for the home community's grid workers (`alerts.task_specs_for`), each with what a
transfer team needs (plate, checkpoint, time, reading, where the car is held, the clause), and
everyone with a fever or a Hubei link is reassessed, in the batch's transaction."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.lib import identity


def _details(vehicle, occupant, who, step: dict, language: str) -> str:
    """What the transfer team and the community need, in one block: the vehicle, where it is
    held, when, the reading and the clause (KS10-11, KS10-12)."""
    from epigrid.rules.clause_words import clauses_text

    checkpoint = vehicle.checkpoint
    place = " ".join(filter(None, [checkpoint.name, checkpoint.road, checkpoint.direction]))
    when = f"{timezone.localtime(vehicle.passed_at):%Y-%m-%d %H:%M}"
    zh = language == "zh-hans"
    lines = [
        (
            _line("车牌", vehicle.plate or "无车（步行）")
            if zh
            else _line("Plate", vehicle.plate or "on foot")
        ),
        _line("卡口" if zh else "Checkpoint", place),
        _line("时间" if zh else "Time", when + (" (UTC+8)" if not zh else "")),
        _line(
            "体温" if zh else "Temperature",
            f"{occupant.temperature} ℃" if zh else f"{occupant.temperature} °C",
        ),
    ]
    if vehicle.origin_text:
        lines.append(_line("来自" if zh else "From", vehicle.origin_text))
    if "isolate_in_vehicle" in step["actions"]:
        lines.append(
            f"原车隔离：车辆留置于{place}，等待属地转运车辆接转"
            if zh
            else f"Isolated in the vehicle, held at {place} until the town's transfer vehicle arrives"
        )
    if who.person_id is None:
        lines.append(
            f"未登记人员（{identity.mask_name(who.name) or '姓名未知'}），居住地不明：请卡口所在地核实"
            if zh
            else f"Not registered ({identity.mask_name(who.name) or 'name unknown'}), home unknown: "
            "the checkpoint's area follows up"
        )
    lines.append(_line("依据" if zh else "Under", clauses_text(step["requirements"], language)))
    return ("；" if zh else "; ").join(lines)


def _line(label: str, value: str) -> str:
    return f"{label}：{value}" if any("\u4e00" <= ch <= "\u9fff" for ch in label) else f"{label}: {value}"


def follow_up(actor: Actor, passes, occupants, plans: dict, checkpoints: dict, now: datetime) -> None:
    """Tasks for the home community of everyone the rules ask work for, and a reassessment
    of each registered person with a fever or a Hubei link, in the batch's transaction."""
    from epigrid.rules.services import reassess_many
    from epigrid.tasks.services import open_tasks_bulk
    from epigrid.venues.services.alerts import task_specs_for

    by_vehicle = {p.pk: p for p in passes}
    planned = {p.id: p for plan in plans.values() for p in plan}
    specs = []
    again = set()
    for occupant in occupants:
        p = planned[occupant.id]
        vehicle = by_vehicle[occupant.vehicle_id]
        if p.who.person_id is not None and (p.decision.fever or p.hubei):
            again.add(p.who.person_id)
        for n, step in enumerate(occupant.actions):
            for spec in task_specs_for(
                person_id=p.who.person_id,
                # a person we cannot place goes to the checkpoint's own area
                person_division=p.who.division_code or vehicle.division_code,
                place_name=vehicle.checkpoint.name,
                seen_at=vehicle.passed_at,
                steps=[step],
                source_type="checkpoint_pass",
                source_id=str(occupant.pk),
                extra_zh=_details(vehicle, occupant, p.who, step, "zh-hans"),
                extra_en=_details(vehicle, occupant, p.who, step, "en"),
            ):
                # the occupant and the step's place in its record: the rule's id would not fit
                # the task's 64 characters of source id
                specs.append(dataclasses.replace(spec, source_id=f"{occupant.pk}:{n}"))
    if specs:
        open_tasks_bulk(actor=actor, specs=specs, at=now)
    if again:
        reassess_many(sorted(again, key=str), actor=actor, at=now, cause="checkpoint_pass")


def register_task_source() -> None:
    """The community completes a checkpoint's task on My tasks: the work (collect the person,
    tell the command) is done on the road, not on a page of ours."""
    from django.utils.translation import gettext_lazy

    from epigrid.tasks.registry import register_source

    register_source("checkpoint_pass", complete_here=True, label=gettext_lazy("Road checkpoint"))
