"""Reads that may be stale go to a real PostgreSQL streaming replica; writes never do.

`.ci/run` starts a hot standby of the test server (`.ci/replica`) and runs these tests again with
EPIGRID_REPLICA_URL naming it. Django's test set-up mirrors that alias onto the primary's test
database; the `streaming_replica` fixture points it at the real standby, which streams the test
database like any other. A standby refuses every write, so a write routed there would fail.
"""

import os
import time

import dj_database_url
import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from epigrid.lib import dbrouter
from epigrid.people.models import Person

REPLICA_URL = os.environ.get("EPIGRID_REPLICA_URL")
pytestmark = [
    pytest.mark.skipif(
        not REPLICA_URL,
        reason="no streaming replica named by EPIGRID_REPLICA_URL (.ci/run starts one and runs these)",
    ),
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture
def streaming_replica():
    if connection.vendor != "postgresql":
        pytest.fail("EPIGRID_REPLICA_URL names a replica, but the tests run on " + connection.vendor)
    url = REPLICA_URL
    alias = connections[dbrouter.REPLICA]
    saved = dict(alias.settings_dict)
    real = dj_database_url.parse(url)
    alias.close()
    alias.settings_dict.update(
        HOST=real["HOST"], PORT=real["PORT"], NAME=connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    )
    try:
        yield alias
    finally:
        # the standby replays the test database's DROP at teardown: no session may hold it open
        alias.close()
        alias.settings_dict.clear()
        alias.settings_dict.update(saved)


def _caught_up(replica) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + 30
    with replica.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the replica did not catch up within 30 s")
            time.sleep(0.05)


def test_it_is_a_real_standby(streaming_replica):
    with streaming_replica.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        in_recovery, port = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        (primary_port,) = cursor.fetchone()
    assert in_recovery is True
    assert port != primary_port


def test_it_lists_persons_from_the_replica(streaming_replica, persona, client_for, make_person):
    person = make_person("320583001001", name="李娜")
    command = persona("county_command")
    _caught_up(streaming_replica)
    with CaptureQueriesContext(streaming_replica) as on_replica:
        response = client_for(command).get(reverse("people:list"))
    assert response.status_code == 200
    assert person.id_number_masked in response.content.decode()
    assert any("people_person" in q["sql"] for q in on_replica.captured_queries)


def test_it_writes_to_the_primary_inside_stale_reads(streaming_replica, system, make_person):
    with dbrouter.stale_reads():
        person = make_person("320583001001", name="王芳")
        # the write went to the primary: it is there before the standby has replayed anything
        assert Person.objects.using(DEFAULT_DB_ALIAS).filter(pk=person.pk).exists()
    _caught_up(streaming_replica)
    assert Person.objects.using(dbrouter.REPLICA).filter(pk=person.pk).exists()


def test_it_reads_from_the_primary_inside_a_transaction(streaming_replica, make_person):
    with dbrouter.stale_reads(), transaction.atomic():
        person = make_person("320583001001", name="赵敏")
        # not committed yet, so not on the standby: found only because the read stays on the primary
        assert Person.objects.filter(pk=person.pk).exists()
        assert dbrouter.read_alias() == DEFAULT_DB_ALIAS


def test_it_refuses_a_write_on_the_standby(streaming_replica):
    """What routing a write there would do: the standby refuses it."""
    from django.db import InternalError, OperationalError, ProgrammingError

    with pytest.raises((InternalError, OperationalError, ProgrammingError)), streaming_replica.cursor() as c:
        c.execute("CREATE TABLE epigrid_never (id int)")
