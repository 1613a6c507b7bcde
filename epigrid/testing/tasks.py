"""Background work of the testing app, run by `epigrid worker` (django-tasks, database
backend). Task bodies only call services and are safe to run twice: committing an import
claims it first, and rows already known are left alone."""

from django_tasks import task


@task()
def commit_result_import(import_id: str, user_id: int) -> dict:
    """Commit a large results file in the background (R6.3), or continue one whose worker died
    (`testing.jobs`): the commit goes on after the last row written."""
    from epigrid.accounts.audit import Actor
    from epigrid.accounts.models import User
    from epigrid.lib.errors import Conflict
    from epigrid.testing.models import ResultImport
    from epigrid.testing.results_import import commit_import

    user = User.objects.get(pk=user_id)
    imp = ResultImport.objects.get(pk=import_id)
    try:
        imp = commit_import(actor=Actor(user=user, via="worker"), user=user, result_import=imp)
    except Conflict:  # already committed (a second click queued it twice)
        imp.refresh_from_db()
    return {"status": imp.status, **imp.counts}
