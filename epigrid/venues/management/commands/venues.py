"""`epigrid venues …`: the venues app's jobs.

epigrid venues retention [--schedule SECONDS]
    delete entries and checkpoint passes older than EPIGRID_SCAN_RETENTION_DAYS (28 by
    default), drop old day partitions and make the next 7 days' (PostgreSQL); prints counts.
    With --schedule, queue the job to run every SECONDS on the workers instead (from then on
    it re-queues itself; asking again never doubles it).
"""

from django.core.management.base import BaseCommand, CommandError

from epigrid.accounts.audit import Actor


class Command(BaseCommand):
    help = "Venues jobs: retention (delete old entries and passes; partitions ahead)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        retention = sub.add_parser("retention", help="delete entries older than the retention period")
        retention.add_argument("--schedule", type=int, default=0, metavar="SECONDS")
        retention.add_argument("--ahead-days", type=int, default=7)

    def handle(self, *args, **options):
        if options["action"] == "retention":
            if options["schedule"]:
                from epigrid.venues.tasks import schedule_retention

                try:
                    queued = schedule_retention(options["schedule"])
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
                self.stdout.write("queued" if queued else "already queued")
                return
            from epigrid.venues.services.retention import run_retention

            run = run_retention(actor=Actor.system("cli"), ahead_days=options["ahead_days"])
            self.stdout.write(
                f"cutoff {run.cutoff:%Y-%m-%d %H:%M}: {run.entries_deleted} entries, "
                f"{run.passes_deleted} vehicle passes deleted; "
                f"{len(run.partitions_dropped)} partitions dropped, {len(run.partitions_created)} made"
            )
