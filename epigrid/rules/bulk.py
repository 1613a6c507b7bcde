"""Bulk reassessment: what-if previews, publishing a change, and scheduled reviews (R3.1-R3.3).

A change that concerns many people — a risk-area change, a new pack version — goes in two
steps, both recorded as `BulkRun`s:

1. **preview** (what-if): the population is evaluated at one moment with the change applied
   (the draft risk list, or a candidate pack) and compared with the stored decisions; nothing
   is written. The run counts, per town and community, the people whose measures or colour
   would change.
2. **publish**: the change takes effect (the drafts are published in the same transaction as
   the run is created) and the same population is reassessed and written. Both steps share
   `services.plans.plan_measures`, so at the same moment the counts of (2) equal those of (1).

A run is split into shards (ranges of person ids) so that several worker processes can share
a million people; each shard is a django-tasks task (`rules.tasks.run_bulk_shard`) that claims
its row with a conditional update, so a shard never runs twice. Progress goes to the shard rows
after every batch; the run page polls them.

A risk-area change reassesses only the people it can concern (`services.queries.candidates_for_areas`:
people with travel inside the changed areas, plus those a full sweep would change anyway), when
every facts source can name them; otherwise, and for pack changes, everyone in scope.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
import uuid
from datetime import datetime, timedelta

import yaml
from django.db import connections, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.lib.errors import Conflict, DomainError
from epigrid.regions import services as risk_areas
from epigrid.rules import jobs
from epigrid.rules.models import BulkRun, BulkRunShard, JobLock
from epigrid.rules.packs import PackError, PackLibrary, _StrictLoader, default_library, parse_pack
from epigrid.rules.services.counts import ChangeCounter
from epigrid.rules.services.population import Population, shard_range
from epigrid.rules.services.queries import candidates_for_areas, due_for_review
from epigrid.rules.services.risk import area_prefix, risk_context_from
from epigrid.rules.services.sweeping import SWEEP_BATCH, sweep

log = logging.getLogger(__name__)

RISK_CHANGE = "risk_change"
PACK_CHANGE = "pack_change"
REASSESS = "reassess"
REVIEW = "review"
PREVIEW_VALID_FOR = timedelta(hours=2)


def default_shards() -> int:
    from django.conf import settings

    return max(1, int(getattr(settings, "EPIGRID_BULK_SHARDS", 1)))


# --- starting runs ------------------------------------------------------------------------


def _enqueue(run: BulkRun) -> None:
    """Queue one task per shard, with the transaction that creates the run (lib/queue.py)."""
    from epigrid.lib import queue
    from epigrid.rules.tasks import run_bulk_shard

    for index in run.shards.values_list("index", flat=True):
        queue.enqueue(run_bulk_shard, str(run.pk), index)


def _create_run(
    *,
    actor: Actor,
    kind: str,
    cause: str,
    at: datetime,
    division: str,
    parameters: dict,
    shards: int | None,
    queue: bool,
) -> BulkRun:
    """A run and its shards (`shards`, else `default_shards()`), recorded, and queued unless
    `queue` is False — with the caller's transaction, or in one of its own."""
    with transaction.atomic():
        run = BulkRun.objects.create(
            kind=kind,
            cause=cause,
            division_prefix=division,
            at=at,
            parameters=parameters,
            created_by=actor.user,
            created_at=timezone.now(),
        )
        count = shards or default_shards()
        BulkRunShard.objects.bulk_create([BulkRunShard(run=run, index=i) for i in range(count)])
        record(
            actor,
            "create",
            object_type="bulk_run",
            object_id=run.pk,
            division_code=division,
            fields=["kind", "cause"],
            note=f"{kind} {cause}",
        )
        if queue:
            _enqueue(run)
    return run


def _areas_of(drafts, withdraw) -> list[str]:
    rows = [*drafts, *withdraw, *[d.supersedes for d in drafts if d.supersedes_id]]
    return sorted({area_prefix(r.area) for r in rows})


def preview_risk_change(
    *,
    actor: Actor,
    publish: list,
    withdraw: list = (),
    division: str = "",
    at: datetime | None = None,
    shards: int | None = None,
    queue: bool = True,
) -> BulkRun:
    """Start the what-if of publishing these drafts and withdrawing these listings."""
    at = at or timezone.now()
    with transaction.atomic():
        drafts, listed = risk_areas.change_rows(publish, withdraw, actor=actor)
        risk_areas.check_change(drafts, listed)
        parameters = {
            "publish": [str(d.pk) for d in drafts],
            "withdraw": [str(r.pk) for r in listed],
            "digest": risk_areas.change_digest(drafts, listed),
            "areas": _areas_of(drafts, listed),
        }
        return _create_run(
            actor=actor,
            kind=BulkRun.Kind.PREVIEW,
            cause=RISK_CHANGE,
            at=at,
            division=division,
            parameters=parameters,
            shards=shards,
            queue=queue,
        )


def candidate_pack(pack_yaml: str):
    """A candidate pack (a new version of a pack, or a new one) checked like a shipped one, and
    the library of the shipped packs with it added, for a what-if."""
    try:
        data = yaml.load(pack_yaml, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DomainError("pack_invalid", _("The pack is not valid YAML: %(error)s") % {"error": exc}, "pack")
    name = (
        f"{data['id']}.yaml"
        if isinstance(data, dict) and isinstance(data.get("id"), str)
        else "candidate.yaml"
    )
    try:
        pack = parse_pack(data, name)
        library = PackLibrary([*default_library().packs, pack])
    except PackError as exc:
        raise DomainError("pack_invalid", str(exc), "pack")
    return pack, library


def candidate_library(pack_yaml: str) -> PackLibrary:
    return candidate_pack(pack_yaml)[1]


def preview_reassessment(
    *,
    actor: Actor,
    division: str = "",
    pack_yaml: str = "",
    at: datetime | None = None,
    shards: int | None = None,
    queue: bool = True,
) -> BulkRun:
    """The what-if of reassessing everyone in `division` with the packs deployed now (after a
    new pack version was deployed), or with a candidate pack added (before deploying it)."""
    at = at or timezone.now()
    parameters: dict = {}
    cause = REASSESS
    if pack_yaml:
        candidate, _library = candidate_pack(pack_yaml)
        parameters = {
            "pack_yaml": pack_yaml,
            "pack": {"id": candidate.id, "version": candidate.version, "fingerprint": candidate.fingerprint},
        }
        cause = PACK_CHANGE
    return _create_run(
        actor=actor,
        kind=BulkRun.Kind.PREVIEW,
        cause=cause,
        at=at,
        division=division,
        parameters=parameters,
        shards=shards,
        queue=queue,
    )


def _check_preview(preview: BulkRun, cause: str, at: datetime) -> None:
    if preview.kind != BulkRun.Kind.PREVIEW or preview.cause != cause:
        raise DomainError("run_not_preview", _("Publish from a what-if preview of this change."))
    if preview.status != BulkRun.Status.DONE:
        raise Conflict("preview_not_done", _("The preview has not finished yet."))
    if at - preview.at > PREVIEW_VALID_FOR:
        raise Conflict("preview_old", _("The preview is more than two hours old; preview the change again."))
    if BulkRun.objects.filter(kind=BulkRun.Kind.PUBLISH, parameters__preview=str(preview.pk)).exists():
        raise Conflict("preview_published", _("This change was published already."))


def _publish_run(
    actor: Actor, preview: BulkRun, at: datetime, pinned: bool, parameters: dict, *, shards, queue: bool
) -> BulkRun:
    """The run that publishes what `preview` showed, once: later publications of it are refused
    (`_check_preview`) by the `preview` parameter."""
    return _create_run(
        actor=actor,
        kind=BulkRun.Kind.PUBLISH,
        cause=preview.cause,
        at=at,
        division=preview.division_prefix,
        parameters={**parameters, "preview": str(preview.pk), "pinned": pinned},
        shards=shards,
        queue=queue,
    )


def publish_risk_change(
    *,
    actor: Actor,
    preview: BulkRun,
    at: datetime | None = None,
    shards: int | None = None,
    queue: bool = True,
) -> BulkRun:
    """Publish the change a preview showed, and reassess the people it concerns in the
    background. The drafts become the published list in the transaction that creates the run."""
    pinned = at is not None
    at = at or timezone.now()
    with transaction.atomic():
        preview = BulkRun.objects.select_for_update().get(pk=preview.pk)
        _check_preview(preview, RISK_CHANGE, at)
        params = preview.parameters
        risk_areas.apply_change(
            actor=actor,
            publish=params["publish"],
            withdraw=params["withdraw"],
            digest=params["digest"],
            at=at,
        )
        return _publish_run(actor, preview, at, pinned, params, shards=shards, queue=queue)


def publish_reassessment(
    *,
    actor: Actor,
    preview: BulkRun,
    at: datetime | None = None,
    shards: int | None = None,
    queue: bool = True,
) -> BulkRun:
    """Reassess everyone a reassessment preview covered, with the packs deployed now."""
    pinned = at is not None
    at = at or timezone.now()
    if preview.cause == PACK_CHANGE:
        raise DomainError(
            "pack_not_deployed",
            _(
                "A candidate pack takes effect when its file is deployed; "
                "then preview and publish a reassessment."
            ),
        )
    with transaction.atomic():
        preview = BulkRun.objects.select_for_update().get(pk=preview.pk)
        _check_preview(preview, REASSESS, at)
        return _publish_run(actor, preview, at, pinned, {}, shards=shards, queue=queue)


def start_reassessment(
    *,
    actor: Actor,
    division: str = "",
    write: bool,
    at: datetime | None = None,
    cause: str = REASSESS,
    shards: int | None = None,
    queue: bool = True,
) -> BulkRun:
    """A run over everyone in `division` (the `epigrid rules reassess` command)."""
    pinned = at is not None
    at = at or timezone.now()
    return _create_run(
        actor=actor,
        kind=BulkRun.Kind.PUBLISH if write else BulkRun.Kind.PREVIEW,
        cause=cause,
        at=at,
        division=division,
        parameters={"pinned": pinned},
        shards=shards,
        queue=queue,
    )


# --- running ------------------------------------------------------------------------------


def evaluation_time(run: BulkRun) -> datetime:
    """When a shard evaluates: a preview as of the moment it was asked for; a publication when
    the worker runs it, so facts that arrived since publishing are seen (and a person a producer
    reassessed meanwhile is never set back), unless the run was given its time (`at=`, `--at`)."""
    if run.kind == BulkRun.Kind.PREVIEW or (run.parameters or {}).get("pinned", True):
        return run.at
    return max(run.at, timezone.now())


def _run_setup(run: BulkRun) -> dict:
    """What a shard of this run evaluates against, and whom."""
    params = run.parameters or {}
    setup: dict = {"write": run.kind == BulkRun.Kind.PUBLISH, "risk": None, "library": None, "areas": None}
    if run.cause == RISK_CHANGE:
        setup["areas"] = params.get("areas", [])
        if run.kind == BulkRun.Kind.PREVIEW:
            drafts, listed = risk_areas.change_rows(params["publish"], params["withdraw"])
            setup["risk"] = risk_context_from(risk_areas.list_after_change(drafts, listed), run.at)
    if params.get("pack_yaml"):
        setup["library"] = candidate_library(params["pack_yaml"])
    return setup


def _claim_shard(run_id, index: int, worker: str) -> BulkRunShard | None:
    now = timezone.now()
    claimed = BulkRunShard.objects.filter(run_id=run_id, index=index, status=BulkRun.Status.QUEUED).update(
        status=BulkRun.Status.RUNNING, worker=worker[:64], started_at=now, heartbeat_at=now
    )
    if not claimed:
        return None
    BulkRun.objects.filter(pk=run_id, status=BulkRun.Status.QUEUED).update(status=BulkRun.Status.RUNNING)
    return BulkRunShard.objects.select_related("run", "run__created_by").get(run_id=run_id, index=index)


def execute_shard(run_id, index: int, *, worker: str = "") -> dict:
    """Run one shard of a bulk run (the body of the `run_bulk_shard` task). A shard already
    claimed by another worker is left alone; a shard whose last worker died continues after
    the last batch that landed (`rules.jobs`)."""
    worker = jobs.worker_token(worker)
    shard = _claim_shard(run_id, index, worker)
    if shard is None:
        return {"run": str(run_id), "shard": index, "skipped": True}
    run = shard.run
    try:
        outcome = _sweep_shard(shard, worker)
    except jobs.LostClaim:
        log.warning("bulk run %s shard %s was taken over by another worker", run.pk, index)
        return {"run": str(run.pk), "shard": index, "skipped": True}
    except Exception:
        log.exception("bulk run %s shard %s failed", run.pk, index)
        _failed(BulkRunShard.objects.filter(pk=shard.pk, worker=worker), run.pk)
        raise
    _finish(run.pk)
    return outcome


def _shard_population(run: BulkRun, index: int, setup: dict, at: datetime, checkpoint) -> Population:
    """The shard's slice of the run's population, after the last batch that landed."""
    low, high = shard_range(index, run.shards.count())
    candidates = None
    if setup["areas"] is not None:
        candidates = candidates_for_areas(setup["areas"], at, run.division_prefix)
    return Population(
        division=run.division_prefix,
        candidates=candidates,
        id_low=checkpoint.after_cursor(low),
        id_high=high,
    )


def _sweep_shard(shard: BulkRunShard, worker: str) -> dict:
    run = shard.run
    checkpoint = jobs.Checkpoint(shard, worker)
    setup = _run_setup(run)
    at = evaluation_time(run)
    population = _shard_population(run, shard.index, setup, at, checkpoint)
    mine = BulkRunShard.objects.filter(pk=shard.pk, worker=worker)
    total = checkpoint.done + population.count()
    mine.update(total=total, heartbeat_at=timezone.now())
    result = sweep(
        population,
        at=at,
        write=setup["write"],
        actor=Actor(user=run.created_by, via="task"),
        cause=run.cause,
        library=setup["library"],
        risk=setup["risk"],
        batch_size=SWEEP_BATCH,
        checkpoint=checkpoint,
    )
    # the counts of every batch, this worker's and those that landed before it stopped
    checkpoint(None, result.evaluated, result.changed, result.counts)
    mine.update(status=BulkRun.Status.DONE, total=max(total, checkpoint.done), finished_at=timezone.now())
    if result.skipped:
        log.info(
            "bulk run %s shard %s: %s people reassessed meanwhile, left as they were",
            run.pk,
            shard.index,
            result.skipped,
        )
    return {
        "run": str(run.pk),
        "shard": shard.index,
        "at": at.isoformat(),
        "evaluated": result.evaluated,
        "changed": result.changed,
        "skipped": result.skipped,
        "seconds": round(result.seconds, 2),
        "candidates": population.candidates is not None,
    }


def _failed(shards, run_id) -> None:
    """Mark shards failed with the exception being handled, and close the run if it is over."""
    shards.update(
        status=BulkRun.Status.FAILED, error=traceback.format_exc()[-4000:], finished_at=timezone.now()
    )
    _finish(run_id)


def _finish(run_id) -> None:
    """Close the run once no shard is queued or running: done, or failed if a shard failed."""
    with transaction.atomic():
        run = BulkRun.objects.select_for_update().get(pk=run_id)
        shards = list(run.shards.all())
        if run.finished or any(s.status in (BulkRun.Status.QUEUED, BulkRun.Status.RUNNING) for s in shards):
            return
        failed = [s for s in shards if s.status == BulkRun.Status.FAILED]
        run.status = BulkRun.Status.FAILED if failed else BulkRun.Status.DONE
        run.error = "\n".join(s.error.strip().splitlines()[-1] for s in failed if s.error)[:2000]
        run.total = sum(s.total for s in shards)
        run.done = sum(s.done for s in shards)
        run.changed = sum(s.changed for s in shards)
        run.counts = ChangeCounter.merge(*(s.counts for s in shards))
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "total", "done", "changed", "counts", "finished_at"])


def progress_of(run: BulkRun) -> dict:
    """Totals of a run so far (from its shards while it runs)."""
    if run.finished:
        return {"total": run.total, "done": run.done, "changed": run.changed, "counts": run.counts}
    shards = list(run.shards.all())
    sums = run.shards.aggregate(total=Sum("total"), done=Sum("done"), changed=Sum("changed"))
    return {
        "total": sums["total"] or 0,
        "done": sums["done"] or 0,
        "changed": sums["changed"] or 0,
        "counts": ChangeCounter.merge(*(s.counts for s in shards)),
    }


def run_inline(run: BulkRun, processes: int = 1) -> BulkRun:
    """Run every shard of a run now, in this process or in `processes` forked processes (the
    command line, the bench); the same code the queue's workers run."""
    indexes = list(run.shards.filter(status=BulkRun.Status.QUEUED).values_list("index", flat=True))
    if processes > 1 and len(indexes) > 1:
        connections.close_all()
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(processes, len(indexes))) as pool:
            pool.starmap(_forked_shard, [(str(run.pk), i) for i in indexes])
    else:
        for index in indexes:
            execute_shard(run.pk, index)
    run.refresh_from_db()
    return run


def _forked_shard(run_id: str, index: int) -> None:
    connections.close_all()  # the parent's connections are not ours to use
    try:
        execute_shard(uuid.UUID(run_id), index, worker=f"fork:{os.getpid()}")
    finally:
        connections.close_all()


# --- scheduled review ---------------------------------------------------------------------


def claim_lock(name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take the named lock unless someone holds it (a crashed holder's lock expires)."""
    now = now or timezone.now()
    JobLock.objects.get_or_create(name=name)
    taken = (
        JobLock.objects.filter(name=name)
        .filter(Q(until__isnull=True) | Q(until__lt=timezone.now()))
        .update(holder=holder[:64], until=timezone.now() + ttl, last_started_at=now)
    )
    return taken == 1


def release_lock(name: str, holder: str, result: dict) -> None:
    JobLock.objects.filter(name=name, holder=holder[:64]).update(
        until=None, last_finished_at=timezone.now(), last_result=result
    )


def review(*, at: datetime | None = None, actor: Actor | None = None, limit: int = 200_000) -> dict:
    """Reassess everyone whose decision changes by time alone by `at` (`next_review_at` has
    passed): quarantines and monitoring end, tests fall overdue, colours clear once their
    release conditions are met. Runs under a lock, so overlapping schedules never run it twice
    at once; records a `review` BulkRun when anyone was due."""
    at = at or timezone.now()
    actor = actor or Actor.system("scheduler")
    holder = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not claim_lock("rules.review", holder, timedelta(minutes=30)):
        return {"skipped": True, "reason": "another review is running"}
    result: dict = {"at": at.isoformat(), "due": 0, "changed": 0}
    try:
        due = due_for_review(at, limit)
        result["due"] = len(due)
        if due:
            result.update(_review_due(due, at=at, actor=actor, holder=holder[:64]))
    finally:
        release_lock("rules.review", holder, result)
    return result


def _start_review_run(due: list, *, at: datetime, actor: Actor, holder: str) -> BulkRun:
    """The review's run, its one shard running already: the review sweeps in this process."""
    with transaction.atomic():
        run = _create_run(
            actor=actor,
            kind=BulkRun.Kind.REVIEW,
            cause=REVIEW,
            at=at,
            division="",
            parameters={"due": len(due)},
            shards=1,
            queue=False,
        )
        now = timezone.now()
        BulkRunShard.objects.filter(run=run).update(
            status=BulkRun.Status.RUNNING, started_at=now, heartbeat_at=now, total=len(due), worker=holder
        )
        BulkRun.objects.filter(pk=run.pk).update(status=BulkRun.Status.RUNNING)
    return run


def _review_due(due: list, *, at: datetime, actor: Actor, holder: str) -> dict:
    run = _start_review_run(due, at=at, actor=actor, holder=holder)
    shards = BulkRunShard.objects.filter(run=run)
    try:
        # the heartbeat tells a live review from one whose worker died (`rules.jobs`)
        swept = sweep(
            Population(candidates=due),
            at=at,
            write=True,
            actor=actor,
            cause=REVIEW,
            checkpoint=jobs.Checkpoint(shards.get(), holder),
        )
    except Exception:
        _failed(shards, run.pk)
        raise
    shards.update(
        status=BulkRun.Status.DONE,
        done=swept.evaluated,
        changed=swept.changed,
        counts=swept.counts,
        finished_at=timezone.now(),
    )
    _finish(run.pk)
    return {"changed": swept.changed, "run": str(run.pk), "counts": swept.counts.get("", {})}
