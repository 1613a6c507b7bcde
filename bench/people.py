"""Registry figures (issue: foundation): simulate N persons; search by ID number through the
service; the scoped person list page as a grid worker and as a city user.

Run by bench/run.py against a database of its own (EPIGRID_DATABASE_URL)."""

import argparse
import random
import time

from common import emit, percentiles, progress, setup_django, timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--grow-to", type=int, nargs="+", required=True, help="population sizes to measure at"
    )
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--pages", type=int, default=60)
    args = parser.parse_args()
    vendor = setup_django()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from epigrid.accounts.audit import Actor
    from epigrid.accounts.models import ScopeGrant, User
    from epigrid.demo.services import build_city, simulate
    from epigrid.lib.crypto import cipher
    from epigrid.people import services
    from epigrid.people.models import Person

    setup_test_environment()  # lets the test client run against this database
    call_command("migrate", verbosity=0)
    actor = Actor.system("bench")
    build_city(actor=actor)
    grid_worker = User.objects.create(username="bench-grid", role="grid_worker")
    city = User.objects.create(username="bench-city", role="city_command")
    have = 0
    for target in args.grow_to:
        start = time.perf_counter()
        report = simulate(
            actor=actor, persons=target - have, seed=target, duplicates=False, progress=progress
        )
        seconds = time.perf_counter() - start
        have = target
        emit(
            "simulate_persons",
            db=vendor,
            persons=report.persons,
            value=round(seconds, 2),
            unit="s",
            rate_per_s=round(report.persons / seconds),
        )
        total = Person.objects.count()

        # search by ID through the service, as a city user would
        rng = random.Random(total)
        sample = (
            list(
                Person.objects.filter(doc_type="resident_id")
                .order_by("?")[: args.searches]
                .values_list("pk", "id_number_enc")
            )
            if vendor == "sqlite"
            else _pg_sample(connection, args.searches)
        )
        numbers = [cipher().decrypt(services.ID_FIELD, blob, row=pk) for pk, blob in sample]
        rng.shuffle(numbers)
        ScopeGrant.objects.get_or_create(user=city, division_prefix="3205")
        city_user = User.objects.get(pk=city.pk)

        queue = iter(numbers * 3)

        def search_once(user=city_user, queue=queue):
            found = list(services.search(user, next(queue)))
            assert len(found) == 1

        for _ in range(20):
            search_once()
        samples = timed(search_once, len(numbers))
        emit("person_search_by_id", db=vendor, persons=total, unit="ms", limit_p95=20, **percentiles(samples))

        # the list page, first page and a later page via the cursor, through the whole stack
        grid = Person.objects.values_list("division_code", flat=True).first()
        ScopeGrant.objects.get_or_create(user=grid_worker, division_prefix=grid)
        for label, user in (("grid_worker", grid_worker), ("city_command", city)):
            client = Client()
            client.force_login(user)
            cursors = [""]
            first = client.get("/people/")
            assert first.status_code == 200

            def load(client=client, cursors=cursors):
                cursor = cursors[-1] if len(cursors) < 5 else ""
                response = client.get("/people/", {"cursor": cursor} if cursor else {})
                assert response.status_code == 200
                marker = b"cursor="
                body = response.content
                at = body.find(marker)
                if at >= 0 and len(cursors) < 5:
                    cursors.append(body[at + len(marker) : body.find(b'"', at)].decode())
                else:
                    cursors[:] = [""]

            for _ in range(5):
                load()
            samples = timed(load, args.pages)
            emit(
                "person_list_page",
                db=vendor,
                persons=total,
                role=label,
                unit="ms",
                limit_p95=200,
                **percentiles(samples),
            )


def _pg_sample(connection, n):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, id_number_enc FROM people_person TABLESAMPLE SYSTEM (1) "
            "WHERE doc_type = 'resident_id' LIMIT %s",
            [n],
        )
        return cursor.fetchall()


if __name__ == "__main__":
    main()
