import sys
import time

from django.core.management.base import BaseCommand, CommandError

from epigrid.accounts.audit import Actor
from epigrid.demo.services import simulate


class ProgressPrinter:
    """One line per step on stderr, so piping stdout stays clean."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0
        self.stream.write(
            f"{stage}: {done:,}/{total:,} ({done * 100 // max(total, 1)}%) {elapsed:.1f} s, {rate:,.0f}/s\n"
        )
        self.stream.flush()


class Command(BaseCommand):
    help = "Add a deterministic synthetic population to the demo city (households, employers, schools)."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch", type=int, default=10_000)
        parser.add_argument(
            "--no-duplicates", action="store_true", help="do not add records for the dedup demo"
        )

    def handle(self, *args, **options):
        if options["persons"] < 1:
            raise CommandError("--persons must be at least 1")
        report = simulate(
            actor=Actor.system("cli"),
            persons=options["persons"],
            seed=options["seed"],
            batch_size=options["batch"],
            duplicates=not options["no_duplicates"],
            progress=ProgressPrinter(self.stderr._out),
        )
        self.stdout.write(
            f"persons={report.persons} duplicates={report.duplicates} units={report.units} "
            f"roster_entries={report.roster_entries} seconds={report.seconds:.1f}"
        )
