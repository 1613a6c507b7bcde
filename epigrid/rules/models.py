import uuid
from datetime import date, datetime
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.scoping import ScopeSpec
from epigrid.lib import jobs
from epigrid.rules import engine


class Colour(models.TextChoices):
    GREEN = "green", _("green")
    YELLOW = "yellow", _("yellow")
    RED = "red", _("red")


class DecisionRecord(models.Model):
    """One stored decision: what the rules asked of a person at a time, from which facts and
    which pack versions (R3.3). A new row is written only when the decision changes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # indexed by decision_person_time, which starts with it
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    evaluated_at = models.DateTimeField()
    fingerprint = models.CharField(max_length=64)
    colour = models.CharField(max_length=8, choices=Colour.choices)
    result = models.JSONField()  # engine Decision.to_dict(trace=True)
    facts = models.JSONField()  # the facts snapshot it was computed from (trimmed)
    packs = models.JSONField(default=list)  # [{"id", "version", "fingerprint"}]
    cause = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["person", "created_at"], name="decision_person_time")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.colour} {self.evaluated_at:%Y-%m-%d %H:%M}"


class PersonRuleState(models.Model):
    """The current decision of each person, for set-based comparisons and what-if counts."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, primary_key=True, related_name="rule_state"
    )
    decision = models.ForeignKey(DecisionRecord, on_delete=models.PROTECT, related_name="+")
    fingerprint = models.CharField(max_length=64)
    colour = models.CharField(max_length=8, choices=Colour.choices, default=Colour.GREEN)
    division_code = models.CharField(max_length=15)
    evaluated_at = models.DateTimeField()
    # when time alone changes the decision (a quarantine ends, a test becomes overdue): the
    # scheduler reassesses at this time so colours clear without a manual step
    next_review_at = models.DateTimeField(null=True, blank=True, db_index=True)

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        indexes = [models.Index(fields=["division_code", "colour"], name="rulestate_division_colour")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.colour}"

    @classmethod
    def on_person_merge(cls, *, survivor, merged, at=None) -> int:
        """people.services.merge_persons asks each model to move the merged record's rows: the
        rules' service does it (`rules.services.states.merge_states`)."""
        from epigrid.rules.services.states import merge_states

        return merge_states(survivor=survivor, merged=merged, at=at)


class MeasureStatus(models.TextChoices):
    OPEN = "open", _("in force")
    CLOSED = "closed", pgettext_lazy("measure", "closed")


class MeasureRecord(models.Model):
    """A measure a person must take, as decided, with its reason and clause. Opened when a
    decision first asks it, closed when a later decision no longer does or it is done."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # indexed by measure_person_status, which starts with it
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="measures", db_index=False
    )
    # rule, kind and start: the same measure across reassessments keeps its row
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=32)
    params = models.JSONField(default=dict)
    rule_id = models.CharField(max_length=120)
    requirements = models.JSONField(default=list)
    pack_id = models.CharField(max_length=80)
    pack_version = models.PositiveIntegerField()
    reason_zh = models.TextField()
    reason_en = models.TextField()
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    counted_from = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=16)
    status = models.CharField(max_length=8, choices=MeasureStatus.choices, default=MeasureStatus.OPEN)
    division_code = models.CharField(max_length=15)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    decision = models.ForeignKey(DecisionRecord, on_delete=models.PROTECT, related_name="measures")

    scope = ScopeSpec(division_field="division_code")

    class Meta:
        indexes = [
            models.Index(fields=["person", "status"], name="measure_person_status"),
            models.Index(fields=["kind", "status"], name="measure_kind_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.rule_id}"

    def reason(self, language: str) -> str:
        return self.reason_zh if (language or "zh").startswith("zh") else self.reason_en

    def as_measure(self) -> engine.Measure:
        """The measure as the engine states it, for wording it (labels, task titles)."""
        return engine.Measure(
            kind=self.kind,
            params=self.params,
            start=self.starts_at,
            end=self.ends_at,
            counted_from=self.counted_from or None,
            state=self.state,
            rule=self.rule_id,
            requirements=tuple(self.requirements),
            pack=self.pack_id,
            pack_version=self.pack_version,
            reason={"zh-hans": self.reason_zh, "en": self.reason_en},
        )


class BulkRun(models.Model):
    """A bulk reassessment or its what-if preview, with progress for the page that started it."""

    class Kind(models.TextChoices):
        PREVIEW = "preview", _("what-if preview")
        PUBLISH = "publish", _("reassessment")
        REVIEW = "review", _("scheduled review")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    cause = models.CharField(max_length=40)
    division_prefix = models.CharField(max_length=15, blank=True)
    at = models.DateTimeField()
    # what the run compares against: e.g. the risk-area draft ids to treat as published
    parameters = models.JSONField(default=dict)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    # {division: {"measures": n, "colour": n, "to_red": n, ...}}
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    scope = ScopeSpec(division_field="division_prefix")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.cause} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(self.done * 100 / self.total)) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def cause_label(self) -> str:
        return str(CAUSE_LABELS.get(self.cause, self.cause))


# Why a person was reassessed: the `cause` of runs and decisions, and the note of their audit rows.
CAUSE_LABELS = {
    "risk_change": _("risk-area change"),
    "pack_change": _("candidate rule pack"),
    "reassess": _("reassessment with the packs in force"),
    "review": _("scheduled review"),
    "declaration": _("declaration"),
    "declaration_withdrawn": _("declaration withdrawn"),
    "verification": _("check on the ground"),
    "pushed_list": _("pushed list"),
    "specimen": _("specimen taken"),
    "test_result": _("test result"),
    "healthcode": _("health code issued"),
    "healthcode_correction": _("correction request decided"),
    "demo": _("demo set-up"),
    "checkpoint_pass": _("road checkpoint check"),
    "venue_entry": _("temperature taken at a venue"),
}


class BulkRunShard(models.Model):
    """One slice of a bulk run's population (a range of person ids), run by one worker process.
    A run of a million people is split so that two workers can share it; the run is done when
    every shard is."""

    run = models.ForeignKey(BulkRun, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=BulkRun.Status.choices, default=BulkRun.Status.QUEUED)
    worker = models.CharField(max_length=64, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # a shard resumes after a crash (issue 10.7): the last person id of the last batch that
    # landed (the batches go in id order) and the worker's last sign of life
    cursor = models.CharField(max_length=36, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="bulkrunshard_unique")]
        ordering = ["run", "index"]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.index} {self.status}"

    @property
    def stalled(self) -> bool:
        """Running, but its worker stopped sending heartbeats (it died): it can be resumed."""
        return self.status == BulkRun.Status.RUNNING and jobs.is_stale(self.heartbeat_at or self.started_at)


class JobLock(models.Model):
    """A named lock for scheduled jobs, claimed with a conditional update so two workers never
    run the same job at once (a crashed holder's lock expires)."""

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=64, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_result = models.JSONField(default=dict)

    def __str__(self) -> str:
        return self.name


# -- typed rows for lib.bulk (a sweep writes these by the hundred thousand) -----------------
# A row names every concrete field of DecisionRecord and MeasureRecord, so the instance the
# handlers and listeners read is made from the row itself (`services.records.loaded`).


class DecisionRow(NamedTuple):
    id: uuid.UUID
    person: uuid.UUID
    evaluated_at: datetime
    fingerprint: str
    colour: str
    result: dict
    facts: dict
    packs: list
    cause: str
    created_at: datetime


class MeasureRow(NamedTuple):
    id: uuid.UUID
    person: uuid.UUID
    key: str
    kind: str
    params: dict
    rule_id: str
    requirements: list
    pack_id: str
    pack_version: int
    reason_zh: str
    reason_en: str
    starts_at: datetime | None
    ends_at: datetime | None
    counted_from: str
    state: str
    division_code: str
    opened_at: datetime
    decision: uuid.UUID
    status: str = MeasureStatus.OPEN
    closed_at: datetime | None = None


class RuleStateRow(NamedTuple):
    """A person's current decision, inserted or updated by `person`."""

    person: uuid.UUID
    decision: uuid.UUID
    fingerprint: str
    colour: str
    division_code: str
    evaluated_at: datetime
    next_review_at: datetime | None


class ReviewRow(NamedTuple):
    """An unchanged decision's next review moved on (and its division, if the person moved)."""

    person: uuid.UUID
    next_review_at: datetime | None
    division_code: str
    evaluated_at: datetime


class SweepRow(NamedTuple):
    """A person as a sweep reads them (`Person.objects.values_list(*SweepRow._fields)`): the
    fields the rules read of the person row, and their stored decision (None when never
    assessed)."""

    id: uuid.UUID
    division_code: str
    birth_date: date | None
    nationality: str
    rule_state__fingerprint: str | None
    rule_state__colour: str | None
    rule_state__next_review_at: datetime | None
    rule_state__division_code: str | None
