"""What a declaration that counts sets going: the return of a trip it closes, the watch for a
return, the reassessment when an arrival declared ahead happens."""

from datetime import datetime, timedelta

from django.db import transaction

from epigrid.accounts.audit import Actor
from epigrid.declarations.models import Declaration, DeclarationStatus, Kind
from epigrid.rules import facts as rf
from epigrid.tasks.models import Assignee, Task, TaskStatus
from epigrid.tasks.services import TaskSpec, close_task, open_task


def follow_up(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """What a declaration that counts sets going for its person: the return of a trip, the watch
    for a return, the reassessment when an arrival declared ahead happens. An unconfirmed
    declaration sets nothing going until it is confirmed."""
    if declaration.kind == Kind.ARRIVAL:
        _link_return(actor=actor, declaration=declaration, now=now)
    else:
        _open_return_watch(actor=actor, declaration=declaration, now=now)
    if declaration.kind == Kind.ARRIVAL and declaration.arrived_at > now:
        _schedule_arrival(actor=actor, declaration=declaration, now=now)


def _link_return(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """An arrival of someone away on a declared trip is the return of that trip (JX57-3.12)."""
    departure = (
        Declaration.objects.select_for_update(of=("self",))
        .filter(
            person=declaration.person,
            kind=Kind.DEPARTURE,
            status__in=(DeclarationStatus.DECLARED, DeclarationStatus.CONFIRMED),
            departs_at__lte=declaration.arrived_at,
            return_arrival__isnull=True,
        )
        .order_by("-departs_at")
        .first()
    )
    if departure is None:
        return
    declaration.return_of = departure
    declaration.save(update_fields=["return_of"])
    for task in Task.objects.filter(
        source_type="declaration", source_id=str(departure.pk), status=TaskStatus.OPEN
    ):
        close_task(actor=actor, task=task, outcome="returned", at=now)


def _open_return_watch(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """Health management on return (JX57-3.12): the grid worker is asked to see the return
    declared by the day after the expected return."""
    if declaration.expected_return_on is None:
        return
    person = declaration.person
    due = rf.start_of_day(declaration.expected_return_on + timedelta(days=1))
    open_task(
        actor=actor,
        spec=TaskSpec(
            kind="departure_return",
            title_zh=f"{person.name}：出差返回后纳入健康管理",
            title_en=f"{person.name}: health management on return from a trip",
            detail_zh=f"预计{declaration.expected_return_on:%Y-%m-%d}返回；返回时须报备到达（JX57-3.12）。",
            detail_en=(
                f"Expected back on {declaration.expected_return_on:%Y-%m-%d}; the return is declared as an "
                "arrival (JX57-3.12)."
            ),
            division_code=person.division_code,
            assignee=Assignee.GRID_WORKER,
            due_at=due,
            within=timedelta(days=1),
            person_id=person.pk,
            source_type="declaration",
            source_id=str(declaration.pk),
        ),
        at=now,
    )


def _schedule_arrival(*, actor: Actor, declaration: Declaration, now: datetime) -> None:
    """A declaration made ahead (提前报备, XC-2.1): the rules see the arrival once it has
    happened, so the person is reassessed then; an overseas arrival also tells the destination's
    grid worker it is coming."""
    from epigrid.declarations.tasks import reassess_person

    person_id, at = str(declaration.person_id), declaration.arrived_at
    transaction.on_commit(lambda: reassess_person.using(run_after=at).enqueue(person_id, "declared_arrival"))
    if declaration.from_abroad:
        person = declaration.person
        open_task(
            actor=actor,
            spec=TaskSpec(
                kind="expected_arrival",
                title_zh=f"{person.name}：境外入境提前报备，预计{rf.local_date(at):%m-%d}到达",
                title_en=f"{person.name}: arrival from abroad declared ahead, due {rf.local_date(at):%m-%d}",
                detail_zh="到达后按规定登记、测温、查验健康码并安排检测（XC-2.1）。",
                detail_en="On arrival: registration, temperature, health-code check and testing (XC-2.1).",
                division_code=declaration.division_code,
                assignee=Assignee.GRID_WORKER if len(declaration.division_code) == 15 else Assignee.COMMAND,
                due_at=at,
                person_id=person.pk,
                source_type="declaration_expected",
                source_id=str(declaration.pk),
            ),
            at=now,
        )
