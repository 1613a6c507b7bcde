"""A results import whose worker died is queued again (issue 10.7, R6.3).

`results_import.commit_import` writes the import's heartbeat with every batch and every
reassessment it completes. An import `committing` whose heartbeat is older than
`lib.jobs.stale_after()` lost its worker (a killed `epigrid worker`, or the web process of a
small file committed from the page): `epigrid worker` queues it again by itself, and the lab
may press "resume" on the import's page. The import goes back to `queued` with a conditional
update on its stale heartbeat, and a new task continues after the last row written.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import visible_to
from epigrid.lib import jobs, queue
from epigrid.lib.errors import Conflict, Forbidden, NotFound
from epigrid.testing.models import ImportStatus, ResultImport


def stale(limit: datetime):
    return ResultImport.objects.filter(status=ImportStatus.COMMITTING, heartbeat_at__lt=limit).values_list(
        "pk", flat=True
    )


def requeue(import_id, *, actor: Actor, cutoff: datetime) -> bool:
    """Queue the commit of an import whose heartbeat stopped before `cutoff` again; False when it
    is not (or no longer) such an import."""
    from epigrid.testing.results_import import record_status
    from epigrid.testing.tasks import commit_result_import

    with transaction.atomic():
        imp = jobs.take(
            ResultImport,
            import_id,
            running=ImportStatus.COMMITTING,
            cutoff=cutoff,
            status=ImportStatus.QUEUED,
            worker="",
        )
        if imp is None:
            return False
        jobs.abandon_tasks(commit_result_import, [str(imp.pk)])
        record_status(
            actor,
            imp,
            f"commit resumed: stopped after row {imp.rows_done} of {len(imp.rows)}, "
            f"last heartbeat {jobs.last_seen(imp.heartbeat_at)}",
        )
        user_id = getattr(actor.user, "pk", None) or imp.committed_by_id or imp.created_by_id
        queue.enqueue(commit_result_import, str(imp.pk), user_id)
    return True


def resume_import(
    *, actor: Actor, user, result_import: ResultImport, at: datetime | None = None
) -> ResultImport:
    """The lab's "resume" of a commit that stopped. Refused while the commit is alive."""
    from epigrid.testing.services.labs import require_lab

    if not user.has_epigrid_perm(Perm.LAB_RESULTS):
        raise Forbidden("permission_denied", _("Your role does not allow this operation."))
    lab = require_lab(user)
    imp = visible_to(user, ResultImport.objects.filter(pk=result_import.pk, lab=lab)).first()
    if imp is None:
        raise NotFound("not_found", _("Not found."))
    if imp.status != ImportStatus.COMMITTING:
        raise Conflict("import_not_resumable", _("Only a commit that stopped can be resumed."))
    if not requeue(imp.pk, actor=actor, cutoff=jobs.cutoff(at)):
        imp.refresh_from_db()
        if imp.status == ImportStatus.COMMITTING:
            raise jobs.still_alive("commit_running", imp.heartbeat_at)
    imp.refresh_from_db()
    return imp


RESULT_IMPORT_COMMIT = jobs.register(jobs.Resumable("result_import_commit", stale=stale, requeue=requeue))
