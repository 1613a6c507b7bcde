"""Open measure tasks opened before issue 10.2 were due at their measure's start, so they read
"overdue" from the day they were opened and inflate every overdue count. Each one is re-dated as
a task opened at its creation time would be now (`rules/task_due.py`), with an audit row."""

import uuid

from django.db import migrations
from django.utils import timezone

BATCH = 2000


def redate(apps, schema_editor):
    from epigrid.rules.task_due import task_due

    Task = apps.get_model("tasks", "Task")
    MeasureRecord = apps.get_model("rules", "MeasureRecord")
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    now = timezone.now()
    open_tasks = Task.objects.filter(source_type="measure", status="open").order_by("pk")
    last = None
    while True:
        page = open_tasks if last is None else open_tasks.filter(pk__gt=last)
        tasks = list(page.only("pk", "source_id", "created_at", "due_at", "division_code")[:BATCH])
        if not tasks:
            return
        last = tasks[-1].pk
        ids = []
        for task in tasks:
            try:
                ids.append(uuid.UUID(task.source_id))
            except ValueError:
                continue
        records = {
            str(r.pk): r for r in MeasureRecord.objects.filter(pk__in=ids).only("pk", "kind", "params", "starts_at")
        }
        changed = []
        for task in tasks:
            record = records.get(task.source_id)
            if record is None:
                continue
            due = task_due(record.kind, record.params or {}, record.starts_at, task.created_at)
            if due != task.due_at:
                task.due_at = due
                changed.append(task)
        Task.objects.bulk_update(changed, ["due_at"])
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    at=now,
                    via="migration",
                    action="update",
                    object_type="task",
                    object_id=str(task.pk),
                    division_code=task.division_code,
                    fields=["due_at"],
                    note="due in its time to act, not at the measure's start (issue 10.2)",
                )
                for task in changed
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_indexes_not_repeated"),
        ("rules", "0003_indexes_not_repeated"),
        ("tasks", "0002_indexes_not_repeated"),
    ]

    operations = [migrations.RunPython(redate, migrations.RunPython.noop)]
