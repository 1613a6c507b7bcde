"""A pushed-list commit whose worker died is queued again (issue 10.7, R2.4).

`run_commit` writes the list's heartbeat with every batch that lands. A list `committing`
whose heartbeat is older than `lib.jobs.stale_after()` has lost its worker: `epigrid worker`
queues it again by itself, and the data team may press "resume" on the list's page or call
`POST /api/v1/declarations/pushed-lists/{id}/resume`. Either way the list goes back to
`queued` with a conditional update on its stale heartbeat, and a new commit task continues
with the rows still `valid`; rows of the batches that landed are `committed` and are never
taken again.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.accounts.scoping import visible_to
from epigrid.declarations.models import ListStatus, PushedList
from epigrid.declarations.services.common import record_list, require_pushed_lists
from epigrid.declarations.services.pushed_commit import enqueue_commit
from epigrid.lib import jobs, queue
from epigrid.lib.errors import Conflict, NotFound


def stale(limit: datetime):
    return PushedList.objects.filter(status=ListStatus.COMMITTING, heartbeat_at__lt=limit).values_list(
        "pk", flat=True
    )


def requeue(list_id, *, actor: Actor, cutoff: datetime) -> bool:
    """Queue the commit of a list whose heartbeat stopped before `cutoff` again. False when the
    list is not (or no longer) such a list: live, finished, or taken by someone else first."""
    from epigrid.declarations.tasks import commit_pushed_list

    with transaction.atomic():
        pushed = jobs.take(
            PushedList,
            list_id,
            running=ListStatus.COMMITTING,
            cutoff=cutoff,
            status=ListStatus.QUEUED,
            queued_at=timezone.now(),
            error="",
        )
        if pushed is None:
            return False
        jobs.abandon_tasks(commit_pushed_list, [str(pushed.pk)])
        record_list(
            actor,
            pushed,
            f"commit resumed: stopped after batch {pushed.batches_done} of {pushed.batches_total}, "
            f"{pushed.committed_rows} rows committed, "
            f"last heartbeat {jobs.last_seen(pushed.heartbeat_at)}",
        )
        list_id, user_id = str(pushed.pk), getattr(actor.user, "pk", None) or pushed.queued_by_id
        queue.enqueue(commit_pushed_list, send=lambda: enqueue_commit(list_id, user_id))
    return True


def resume_commit(*, actor: Actor, pushed: PushedList, at: datetime | None = None) -> PushedList:
    """The data team's "resume" of a commit that stopped. Refused while the commit is alive."""
    require_pushed_lists(actor)
    if (
        actor.user is not None
        and not visible_to(actor.user, PushedList.objects.filter(pk=pushed.pk)).exists()
    ):
        raise NotFound("not_found", _("Not found."))
    pushed.refresh_from_db()
    if pushed.status != ListStatus.COMMITTING:
        raise Conflict("list_not_resumable", _("Only a commit that stopped can be resumed."))
    if not requeue(pushed.pk, actor=actor, cutoff=jobs.cutoff(at)):
        pushed.refresh_from_db()
        if pushed.status == ListStatus.COMMITTING:
            raise jobs.still_alive("commit_running", pushed.heartbeat_at)
    pushed.refresh_from_db()
    return pushed


PUSHED_LIST_COMMIT = jobs.register(jobs.Resumable("pushed_list_commit", stale=stale, requeue=requeue))
