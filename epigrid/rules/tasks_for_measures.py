"""The default handler of a measure: a task for the grid worker of the person's division, so
"work reaches the person who must do it" (R10.1, KS10-13), due when the time to act on it runs
out (`task_due.py`: the pack's `task_due_hours` or the kind's default after the later of the
measure's start and the task's creation), never at the measure's start. Closed measures cancel
their open tasks."""

from datetime import datetime

from epigrid.rules.engine import measure_label
from epigrid.rules.task_due import task_due, task_window
from epigrid.tasks.models import Assignee
from epigrid.tasks.services import TaskSpec, cancel_for_sources, open_tasks_bulk


def default_opened(records: list, actor, at: datetime) -> None:
    specs = []
    for rec in records:
        measure = rec.as_measure()
        name = getattr(rec.person, "name", "") if hasattr(rec, "person") else ""
        clause = ", ".join(rec.requirements)
        late_zh = late_en = ""
        if measure.kind == "test" and measure.end is not None and measure.end < at:
            # the test's own time limit passed before the task existed (a late declaration):
            # the task still gives its worker time to act, and says the limit is behind them
            late_zh = "（已过检测时限，请尽快安排）"
            late_en = " (past the test's time limit: arrange it at once)"
        specs.append(
            TaskSpec(
                kind=f"measure_{rec.kind}",
                title_zh=f"{name}：{measure_label(measure, 'zh-hans')}{late_zh}",
                title_en=f"{name}: {measure_label(measure, 'en')}{late_en}",
                detail_zh=f"{rec.reason_zh}（{clause}）",
                detail_en=f"{rec.reason_en} ({clause})",
                division_code=rec.division_code,
                assignee=Assignee.GRID_WORKER,
                due_at=task_due(rec.kind, rec.params, rec.starts_at, at),
                within=task_window(rec.kind, rec.params),
                person_id=rec.person_id,
                source_type="measure",
                source_id=str(rec.pk),
            )
        )
    if specs:
        open_tasks_bulk(actor=actor, specs=specs, at=at)


def default_closed(records: list, actor, at: datetime) -> None:
    cancel_for_sources(
        actor=actor,
        source_type="measure",
        source_ids=[str(r.pk) for r in records],
        at=at,
        outcome="measure_closed",
        note="measure closed",
    )
