"""Background work of the declarations app, run by `epigrid worker` (django-tasks, database
backend). Task bodies only call services; they are safe to run twice."""

from django_tasks import task

from epigrid.accounts.audit import Actor


def _actor(user_id) -> Actor:
    from epigrid.accounts.models import User

    user = User.objects.filter(pk=user_id).first() if user_id is not None else None
    return Actor(user=user, via="worker")


@task()
def commit_pushed_list(list_id: str, user_id: int | None = None) -> dict:
    """Commit a pushed list in batches (R2.4). Rerunning after a crash continues where the last
    whole batch ended."""
    from epigrid.declarations.services.pushed_commit import run_commit

    pushed = run_commit(list_id=list_id, actor=_actor(user_id))
    return {
        "status": pushed.status,
        "batches_done": pushed.batches_done,
        "committed_rows": pushed.committed_rows,
    }


@task()
def reassess_person(person_id: str, cause: str = "declared_arrival") -> int:
    """Reassess one person at the time an arrival declared ahead happens (XC-2.1)."""
    from epigrid.rules.services import reassess_many

    return reassess_many([person_id], actor=Actor.system("worker"), cause=cause).changed
