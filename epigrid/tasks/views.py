"""My tasks (phone first, for grid workers, unit managers and the CDC) and the command's view
of open and overdue work per division (R10.1, KS10-13: work reaches the person who must do it)."""

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.accounts.access import scoped
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import get_visible_or_404, scope_of
from epigrid.lib.errors import DomainError
from epigrid.regions.models import Division
from epigrid.tasks import services
from epigrid.tasks.models import Task
from epigrid.tasks.registry import link_of, source_of

PAGE = 200


def _decorate(tasks, now, language):
    """What a card shows: texts in the reader's language, the place by name, the outcome's
    label, whether it is overdue and where the work behind it is done (one query for names)."""
    codes = {t.division_code for t in tasks}
    names = {
        d.code: d.name_for(language)
        for d in Division.objects.filter(code__in=codes).only("code", "name_zh", "name_en")
    }
    for task in tasks:
        task.overdue = task.is_overdue(now)
        task.title_text = task.title(language)
        task.detail_text = task.detail(language)
        task.division_name = names.get(task.division_code, task.division_code)
        task.outcome_label = services.OUTCOMES.get(task.outcome, task.outcome)
        task.link = link_of(task)
        task.completable = services.completable_here(task)
        source = source_of(task.source_type)
        task.action, task.action_label = source.action, source.action_label
    return tasks


@scoped(Perm.TASKS_DO)
def my_tasks(request):
    now = timezone.now()
    show_done = request.GET.get("show") == "done"
    qs = services.my_tasks(request.user, open_only=not show_done)
    tasks = list(qs[: PAGE + 1])
    more = len(tasks) > PAGE
    tasks = _decorate(tasks[:PAGE], now, request.LANGUAGE_CODE)
    return render(
        request,
        "tasks/my_tasks.html",
        {
            "tasks": tasks,
            "more": more,
            "show_done": show_done,
            "overdue_count": sum(1 for t in tasks if t.overdue),
            "outcomes": services.OUTCOMES,
            "now": now,
        },
    )


@scoped(Perm.TASKS_VIEW)
def task_detail(request, task_id):
    task = get_visible_or_404(request.user, Task.objects.select_related("closed_by"), pk=task_id)
    _decorate([task], timezone.now(), request.LANGUAGE_CODE)
    can_do = request.user.has_epigrid_perm(Perm.TASKS_DO)
    return render(
        request,
        "tasks/detail.html",
        {"task": task, "outcomes": services.OUTCOMES, "can_do": can_do},
    )


@scoped(Perm.TASKS_DO)
@require_POST
def complete(request, task_id):
    """Complete a task (htmx: the row is replaced by its completed form)."""
    task = get_visible_or_404(request.user, Task.objects.all(), pk=task_id)
    outcome = request.POST.get("outcome", "")
    notes = request.POST.get("notes", "")
    error = None
    try:
        task = services.complete_task(
            actor=Actor.from_request(request), task=task, outcome=outcome, notes=notes
        )
    except DomainError as exc:
        error = exc
    _decorate([task], timezone.now(), request.LANGUAGE_CODE)
    context = {
        "task": task,
        "outcomes": services.OUTCOMES,
        "error": error,
        "form": {"outcome": outcome, "notes": notes},
    }
    status = 200 if error is None else (error.status if error.status != 404 else 400)
    if request.htmx:
        return render(request, "tasks/_task.html", context, status=status)
    return render(request, "tasks/detail.html", {**context, "can_do": True}, status=status)


def _division_names(codes: list[str], language: str) -> dict[str, str]:
    lookup = {c: (c.ljust(6, "0") if len(c) < 6 else c) for c in codes}
    found = Division.objects.filter(code__in=set(lookup.values())).only("code", "name_zh", "name_en")
    names = {d.code: d.name_for(language) for d in found}
    return {c: names.get(padded, c) for c, padded in lookup.items()}


@scoped(Perm.TASKS_VIEW)
def command(request):
    """Open and overdue tasks per division one level down, as bars; click to go down a level."""
    prefix = (request.GET.get("division") or services.default_prefix(request.user)).strip()
    if not prefix.isdigit() and prefix:
        raise Http404
    scope = scope_of(request.user)
    if prefix and not scope.covers_division(prefix) and not any(p.startswith(prefix) for p in scope.prefixes):
        raise Http404
    now = timezone.now()
    rows = services.counts_by_division(request.user, prefix, at=now)
    names = _division_names([r["code"] for r in rows] + ([prefix] if prefix else []), request.LANGUAGE_CODE)
    peak = max((r["open"] for r in rows), default=0) or 1
    for row in rows:
        row["name"] = names.get(row["code"], row["code"])
        row["open_pct"] = round(row["open"] * 100 / peak, 1)
        row["overdue_pct"] = round(row["overdue"] * 100 / peak, 1)
        row["deeper"] = services.child_length(row["code"]) is not None and row["code"] != prefix
    totals = {"open": sum(r["open"] for r in rows), "overdue": sum(r["overdue"] for r in rows)}
    parent = ""
    if prefix:
        for length in (12, 9, 6, 4, 2):
            if len(prefix) > length and scope.covers_division(prefix[:length]):
                parent = prefix[:length]
                break
    return render(
        request,
        "tasks/command.html",
        {
            "prefix": prefix,
            "prefix_name": names.get(prefix, _("All areas")) if prefix else _("All areas"),
            "rows": rows,
            "totals": totals,
            "parent": parent,
            "now": now,
        },
    )
