"""`epigrid rules …`: bulk reassessment, its what-if, the scheduled review, and the packs in force.

    epigrid rules reassess [--division P] [--what-if] [--at ISO] [--shards N] [--processes N] [--queue]
    epigrid rules review [--at ISO] [--every SECONDS] [--queue]
    epigrid rules packs [--division P] [--at ISO]
    epigrid rules explain PERSON_ID [--lang zh-hans|en]

Every run is recorded as a BulkRun (visible under /rules/runs/); one JSON line per result on
stdout, progress on stderr.
"""

import json
import signal
import sys
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.lib.chinatime import CHINA_TZ
from epigrid.rules import bulk


def moment(text: str | None) -> datetime | None:
    """An ISO time; without an offset it is China time (how the documents count)."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--at: {exc}") from None
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


class Command(BaseCommand):
    help = "Bulk reassessment and what-if, the scheduled review, and the rule packs in force."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)

        reassess = sub.add_parser(
            "reassess", help="reassess everyone (in a division), or count what would change"
        )
        reassess.add_argument("--division", default="", help="division code prefix, e.g. 320583")
        reassess.add_argument("--what-if", action="store_true", help="count the changes, write nothing")
        reassess.add_argument("--at", help="evaluate at this time (ISO; China time without offset)")
        reassess.add_argument("--shards", type=int, default=None, help="split the population in N shards")
        reassess.add_argument("--processes", type=int, default=1, help="run the shards in N processes")
        reassess.add_argument("--queue", action="store_true", help="queue the shards for `epigrid worker`")

        review = sub.add_parser("review", help="reassess people whose next review time has passed")
        review.add_argument("--at", help="review as of this time (ISO; China time without offset)")
        review.add_argument("--every", type=int, default=0, help="repeat every N seconds until stopped")
        review.add_argument("--queue", action="store_true", help="queue the review task instead")
        review.add_argument(
            "--schedule", type=int, default=0, help="let the workers review every N seconds from now on"
        )

        packs = sub.add_parser("packs", help="the rule packs in force for a division")
        packs.add_argument("--division", default="320583")
        packs.add_argument("--at", help="ISO time (default now)")

        explain = sub.add_parser("explain", help="the current decision of a person, explained")
        explain.add_argument("person_id")
        explain.add_argument("--lang", default="zh-hans", choices=["zh-hans", "en"])

    def emit(self, data: dict) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, default=str))

    def handle(self, *args, **options):
        getattr(self, "do_" + options["action"])(options)

    def do_reassess(self, options):
        division = options["division"]
        if division and (not division.isdigit() or len(division) > 15):
            raise CommandError("--division is a division code prefix (digits)")
        if options["processes"] < 1:
            raise CommandError("--processes must be at least 1")
        shards = options["shards"] or max(options["processes"], bulk.default_shards())
        started = time.perf_counter()
        run = bulk.start_reassessment(
            actor=Actor.system("cli"),
            division=division,
            write=not options["what_if"],
            at=moment(options["at"]),
            cause="reassess",
            shards=shards,
            queue=options["queue"],
        )
        if options["queue"]:
            self.emit({"run": str(run.pk), "queued": True, "shards": shards})
            return
        run = bulk.run_inline(run, processes=options["processes"])
        self.emit(
            {
                "run": str(run.pk),
                "kind": run.kind,
                "status": run.status,
                "evaluated": run.done,
                "changed": run.changed,
                "total": run.counts.get("", {}),
                "seconds": round(time.perf_counter() - started, 2),
                "error": run.error or None,
            }
        )
        if run.status != "done":
            raise CommandError(f"run {run.pk} failed: {run.error}")

    def do_review(self, options):
        if options["schedule"]:
            from epigrid.rules.tasks import schedule_review

            try:
                queued = schedule_review(options["schedule"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            self.emit({"scheduled": queued, "every": options["schedule"], "already": not queued})
            return
        if options["queue"]:
            from epigrid.rules.tasks import review_due

            at = moment(options["at"])
            result = review_due.enqueue(at.isoformat() if at else None)
            self.emit({"queued": True, "task": str(result.id)})
            return
        every = options["every"]
        stop = {"now": False}

        def request_stop(signum, frame):
            stop["now"] = True

        if every:
            signal.signal(signal.SIGTERM, request_stop)
            signal.signal(signal.SIGINT, request_stop)
        while True:
            started = time.perf_counter()
            result = bulk.review(at=moment(options["at"]) or timezone.now(), actor=Actor.system("scheduler"))
            result["seconds"] = round(time.perf_counter() - started, 2)
            self.emit(result)
            if not every:
                return
            # sleep in short steps so a stop signal ends the loop promptly
            deadline = time.monotonic() + every
            while not stop["now"] and time.monotonic() < deadline:
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            if stop["now"]:
                sys.stderr.write("review loop stopped\n")
                return

    def do_packs(self, options):
        from epigrid.rules.packs import default_library

        at = moment(options["at"]) or timezone.now()
        for pack in default_library().in_force(options["division"], at):
            self.emit(
                {
                    "id": pack.id,
                    "version": pack.version,
                    "fingerprint": pack.fingerprint[:12],
                    "jurisdiction": pack.jurisdiction,
                    "valid_from": pack.valid_from,
                    "valid_to": pack.valid_to,
                    "rules": len(pack.rules),
                }
            )

    def do_explain(self, options):
        from epigrid.people.models import Person
        from epigrid.rules.engine import explain
        from epigrid.rules.services import Evaluator

        try:
            person = Person.objects.filter(pk=options["person_id"]).first()
        except Exception:  # not a UUID
            person = None
        if person is None:
            raise CommandError("no such person")
        evaluated = Evaluator(timezone.now()).evaluate([person])[0]
        for line in explain(evaluated.decision, options["lang"]):
            self.stdout.write(line)
