"""Fixtures for the Django side of the rules: an in-memory facts source standing in for the
producers (declarations, testing, cases) that register theirs in their own apps, risk listings
published through the risk-area services, and controlled times (never the clock)."""

from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from epigrid.regions.models import RiskArea
from epigrid.regions.services import risk
from epigrid.rules import facts as rf
from epigrid.rules.registry import register_facts_source, unregister_facts_source

CST = rf.CHINA_TZ
# 10:00 China time on 20 June 2020: every pack of the Kunshan demo city is in force
AT = datetime(2020, 6, 20, 10, tzinfo=CST)


def t(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2020, month, day, hour, tzinfo=CST)


class FactsBook:
    """Facts per person, served like a producer's facts source (one call per batch), with the
    `touching` query a producer gives for risk-area changes."""

    def __init__(self):
        self.facts: dict[str, dict] = defaultdict(lambda: defaultdict(list))
        self.calls = 0

    def arrival(self, person, *, at: datetime, origin: str, stay: tuple[date, date] | None = None, **more):
        entry = self.facts[str(person.pk)]
        entry["arrivals"].append(rf.Arrival(arrived_at=at, origin=origin, **more))
        first, last = stay or (at.date() - timedelta(days=6), at.date() - timedelta(days=1))
        entry["travel"].append(rf.TravelStop(origin, first, last))
        return person

    def test(self, person, *, kind="nucleic_acid", result="negative", sampled: datetime, reported=None):
        self.facts[str(person.pk)]["tests"].append(
            rf.TestResult(kind=kind, result=result, sampled_at=sampled, reported_at=reported)
        )

    def source(self, persons, at):
        self.calls += 1
        out = {}
        for p in persons:
            entry = self.facts.get(str(p.pk))
            if entry:
                out[str(p.pk)] = {k: tuple(v) for k, v in entry.items()}
        return out

    def touching(self, prefixes):
        return [
            pid
            for pid, entry in self.facts.items()
            if any(stop.area.startswith(tuple(prefixes)) for stop in entry.get("travel", ()))
        ]


@pytest.fixture
def book():
    facts = FactsBook()
    register_facts_source("test_book", facts.source, touching=facts.touching)
    yield facts
    unregister_facts_source("test_book")


@pytest.fixture
def listing(system):
    """Publish a risk listing directly (setup only: real changes go through preview/publish)."""

    def make(
        area: str, level: str, starts_on: date | None, ends_on: date | None = None, notice="test notice"
    ):
        draft = risk.create_draft(
            actor=system,
            data=risk.RiskAreaInput(
                area=area, level=level, starts_on=starts_on, ends_on=ends_on, notice=notice
            ),
            at=AT - timedelta(days=30),
            jurisdiction="32",
        )
        risk.apply_change(actor=system, publish=[draft.pk], withdraw=[], at=AT - timedelta(days=30))
        return RiskArea.objects.get(pk=draft.pk)

    return make


@pytest.fixture
def cell(grid_cells):
    return grid_cells[0]


def run_worker():
    """Run the queued tasks with `epigrid worker` (the database backend's worker, which first
    takes back jobs whose worker died). The worker closes stale connections between tasks;
    inside a test's transaction that would close the test's own connection, so that one call is
    left out here."""
    from unittest import mock

    from django.core.management import call_command

    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0)
