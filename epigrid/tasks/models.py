import uuid
from datetime import datetime
from typing import NamedTuple

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.scoping import ScopeSpec


class Assignee(models.TextChoices):
    GRID_WORKER = "grid_worker", _("Grid worker")
    UNIT_MANAGER = "unit_manager", _("Unit manager")
    CDC = "cdc", _("CDC epidemiologist")
    LAB = "lab", _("Lab")
    SAMPLING = "sampling", _("Sampling staff")
    COMMAND = "command", _("Command")


class TaskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("task", "open")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


def _unit_q(unit_ids: list) -> Q:
    return Q(unit_id__in=unit_ids)


class Task(models.Model):
    """A piece of work with a due time for whoever must do it (责任到人, R10.1): "test required by
    …", "verify this arrival", "review this correction request". The 2 h / 12 h / 24 h clocks
    are counted from stored event times, or from the task's creation when the work reaches its
    person later than that (`due.py`), so no task is overdue the moment it is opened."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    title_zh = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    detail_zh = models.TextField(blank=True)
    detail_en = models.TextField(blank=True)
    person = models.ForeignKey(
        # indexed by task_person, which starts with it
        "people.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        db_index=False,
    )
    division_code = models.CharField(_("division"), max_length=15)
    unit_id = models.UUIDField(null=True, blank=True, db_index=True)
    assignee = models.CharField(_("for"), max_length=16, choices=Assignee.choices)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # what the task was opened for, so it closes when that no longer applies
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    scope = ScopeSpec(division_field="division_code", unit_q=_unit_q)

    class Meta:
        indexes = [
            models.Index(fields=["division_code", "status", "due_at"], name="task_division_open"),
            models.Index(fields=["source_type", "source_id"], name="task_source"),
            models.Index(fields=["person", "status"], name="task_person"),
            # equality only: no LIKE-pattern index beside it, as db_index would add
            models.Index(fields=["kind"], name="task_kind"),
        ]

    def __str__(self) -> str:
        return self.title_en

    def is_overdue(self, now) -> bool:
        """Open and past its due time: the test of every page, the API and the command's counts
        (`services.counts_by_division` counts `due_at < now` among the open ones)."""
        return self.status == TaskStatus.OPEN and self.due_at is not None and self.due_at < now

    def title(self, language: str) -> str:
        return self.title_zh if (language or "zh").startswith("zh") else self.title_en

    def detail(self, language: str) -> str:
        return self.detail_zh if (language or "zh").startswith("zh") else self.detail_en


class TaskRow(NamedTuple):
    """A Task as `lib.bulk.insert_rows` writes it (`services.open_tasks_bulk`): every column
    without a database default is here, so a bulk-opened task reads like one opened singly."""

    id: uuid.UUID
    kind: str
    title_zh: str
    title_en: str
    division_code: str
    assignee: str
    created_at: datetime
    detail_zh: str = ""
    detail_en: str = ""
    person: uuid.UUID | None = None  # the person's id
    unit_id: uuid.UUID | None = None
    due_at: datetime | None = None
    status: str = TaskStatus.OPEN
    source_type: str = ""
    source_id: str = ""
    outcome: str = ""
    notes: str = ""
