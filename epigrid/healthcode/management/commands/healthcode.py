"""`epigrid healthcode …`: the health code's keys and offline verification.

epigrid healthcode verify [TOKEN] [--keys FILE ...] [--at ISO-8601]
    offline verification (see epigrid/healthcode/cli.py); without --keys, against this
    system's published trust list (our keys and every trusted issuer's)
epigrid healthcode rotate-keys [--grace-hours H] [--publish-ahead-hours H]
    a new signing key; older keys keep verifying for the grace period, then retire
epigrid healthcode keys [--trust] [--output FILE]
    print the published key list (or the whole trust list) for offline scanners
epigrid healthcode trust add FILE | trust remove ISSUER | trust list
    the other issuers (provinces) whose codes we accept
"""

import argparse
import io
import json
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from epigrid.accounts.audit import Actor
from epigrid.healthcode import cli, keys
from epigrid.healthcode.models import TrustedKey
from epigrid.lib.errors import DomainError


def run_verify(argv: list[str], stdin, stdout, stderr) -> int:
    """cli.main, with this system's trust list when no --keys is given."""
    if any(arg == "--keys" or arg.startswith("--keys=") for arg in argv) or any(
        arg in ("-h", "--help") for arg in argv
    ):
        return cli.main(["verify", *argv], stdin, stdout)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trust.json"
        keys.signer()
        path.write_text(keys.trust_list().to_json(), encoding="utf-8")
        return cli.main(["verify", *argv, "--keys", str(path)], stdin, stdout)


class Command(BaseCommand):
    help = "Health code keys and offline verification: verify, rotate-keys, keys, trust add/remove/list."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("verify", help="verify tokens offline (TOKEN or one per stdin line)")
        check.add_argument("verify_args", nargs=argparse.REMAINDER)
        rotate = sub.add_parser("rotate-keys", help="make a new signing key; older ones retire after a grace")
        rotate.add_argument(
            "--grace-hours",
            type=float,
            default=keys.DEFAULT_GRACE.total_seconds() / 3600,
            help="how long older keys keep verifying (default 24; at least one token lifetime)",
        )
        rotate.add_argument(
            "--publish-ahead-hours",
            type=float,
            default=0,
            help="publish the new key this long before it starts signing (for scanners that cache)",
        )
        export = sub.add_parser("keys", help="print the published key list (JSON)")
        export.add_argument(
            "--trust", action="store_true", help="the whole trust list, ours and trusted issuers"
        )
        export.add_argument("--output", help="write to this file instead of stdout")
        trust = sub.add_parser("trust", help="the other issuers whose codes are accepted")
        trust_sub = trust.add_subparsers(dest="trust_action", required=True)
        add = trust_sub.add_parser("add", help="trust the issuer(s) of a key list or trust list file")
        add.add_argument("file")
        remove = trust_sub.add_parser("remove", help="stop trusting an issuer")
        remove.add_argument("issuer")
        trust_sub.add_parser("list", help="list trusted issuers and their keys")

    def run_from_argv(self, argv):
        # `verify` takes the plain command line of cli.main, with its own exit codes
        if len(argv) > 2 and argv[2] == "verify":
            import django

            django.setup()
            sys.exit(run_verify(argv[3:], sys.stdin, sys.stdout, sys.stderr))
        super().run_from_argv(argv)

    def handle(self, *args, **options):
        actor = Actor.system("cli")
        action = options["action"]
        try:
            if action == "verify":
                out = io.StringIO()
                code = run_verify(
                    list(options["verify_args"]), options.get("stdin", sys.stdin), out, self.stderr
                )
                self.stdout.write(out.getvalue(), ending="")
                if code:
                    raise CommandError(
                        "usage error" if code == 2 else "at least one token is not valid", returncode=code
                    )
            elif action == "rotate-keys":
                new, retired = keys.rotate_keys(
                    actor=actor,
                    grace=timedelta(hours=options["grace_hours"]),
                    publish_ahead=timedelta(hours=options["publish_ahead_hours"]),
                )
                self.stdout.write(
                    f"new signing key {new.kid} ({new.issuer}) from {new.not_before.isoformat()}"
                )
                for key in retired:
                    self.stdout.write(f"key {key.kid} keeps verifying until {key.not_after.isoformat()}")
            elif action == "keys":
                keys.signer()
                document = keys.trust_list() if options["trust"] else keys.published_key_list()
                text = document.to_json()
                if options["output"]:
                    Path(options["output"]).write_text(text + "\n", encoding="utf-8")
                else:
                    self.stdout.write(text)
            elif options["trust_action"] == "add":
                try:
                    document = Path(options["file"]).read_bytes()
                except OSError as exc:
                    raise CommandError(f"cannot read {options['file']}: {exc.strerror}")
                report = keys.add_trusted(actor=actor, document=document, source=Path(options["file"]).name)
                self.stdout.write(json.dumps(report, sort_keys=True))
            elif options["trust_action"] == "remove":
                count = keys.remove_trusted(actor=actor, issuer_name=options["issuer"])
                self.stdout.write(f"removed {options['issuer']} ({count} keys)")
            else:
                for key in TrustedKey.objects.order_by("issuer", "not_before"):
                    until = key.not_after.isoformat() if key.not_after else "-"
                    self.stdout.write(f"{key.issuer}  {key.kid}  {key.not_before.isoformat()}  {until}")
        except DomainError as exc:
            raise CommandError(exc.message)
