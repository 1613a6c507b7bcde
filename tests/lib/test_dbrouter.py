"""Which database a query goes to (lib/dbrouter.py), without a replica server: the rules the
real-replica tests (test_replica.py) rely on."""

import pytest
from django.db import transaction

from epigrid.lib import dbrouter
from epigrid.people.models import Person

router = dbrouter.ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch):
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)


def test_it_reads_the_primary_when_no_replica_is_configured():
    with dbrouter.stale_reads():
        assert router.db_for_read(Person) == "default"


def test_it_reads_the_replica_only_inside_stale_reads(with_replica):
    assert router.db_for_read(Person) == "default"
    with dbrouter.stale_reads():
        assert router.db_for_read(Person) == "replica"
    assert router.db_for_read(Person) == "default"


@pytest.mark.django_db
def test_it_reads_the_primary_inside_a_transaction(with_replica):
    with dbrouter.stale_reads(), transaction.atomic():
        assert router.db_for_read(Person) == "default"


def test_it_never_writes_or_migrates_on_the_replica(with_replica):
    with dbrouter.stale_reads():
        assert router.db_for_write(Person) == "default"
    assert router.allow_migrate("default", "people")
    assert not router.allow_migrate("replica", "people")


def test_a_view_marked_stale_reads_reads_the_replica(with_replica):
    seen = []

    @dbrouter.stale_reads_view
    def view(request):
        seen.append(router.db_for_read(Person))
        return "ok"

    assert view(None) == "ok"
    assert seen == ["replica"]
    assert router.db_for_read(Person) == "default"
