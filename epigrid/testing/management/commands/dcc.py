"""`epigrid dcc verify ...`: the EU Digital COVID Certificate tools (see epigrid/testing/dcc/cli.py).

The arguments go to the DCC command line untouched, so its options and help are the same
whether it runs here or as a plain function.
"""

import argparse
import sys

from django.core.management.base import BaseCommand, CommandError

from epigrid.testing.dcc.cli import main


class Command(BaseCommand):
    help = "EU Digital COVID Certificate tools: `dcc verify --trust FILE [--at ISO-8601]`, QR texts on stdin."
    # call_command(..., stdin=...) feeds the lines from a stream instead of the process's stdin
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("dcc_args", nargs=argparse.REMAINDER, help="verify --trust FILE ...")

    def run_from_argv(self, argv):
        # Django's own options (--verbosity, ...) mean nothing here and would shadow ours
        sys.exit(main(argv[2:], sys.stdin, sys.stdout, sys.stderr))

    def handle(self, *args, **options):
        code = main(list(options["dcc_args"]), options.get("stdin", sys.stdin), self.stdout, self.stderr)
        if code == 2:
            raise CommandError("usage error, see the message above", returncode=2)
        if code:
            raise CommandError("at least one certificate is not valid", returncode=code)
