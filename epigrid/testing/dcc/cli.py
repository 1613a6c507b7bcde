"""`dcc verify`: verify QR texts read from standard input, one JSON line out per line in.

    epigrid dcc verify --trust signers.pem [--trust more.b64 ...] [--at 2021-06-01T12:00:00Z]

Blank input lines are passed over. The exit status is 0 when every certificate was valid,
1 when at least one was not, 2 for a usage error (bad arguments, unreadable trust file).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TextIO

from epigrid.testing.dcc.trust import TrustList, TrustListError
from epigrid.testing.dcc.verifier import verify


class _ArgumentError(Exception):
    pass


class _ParserExit(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that writes to the given stream and returns instead of exiting the process,
    so main() stays callable from tests and from the management command."""

    output: TextIO | None = None

    def error(self, message: str):
        raise _ArgumentError(message)

    def exit(self, status: int = 0, message: str | None = None):
        if message:
            self._print_message(message)
        raise _ParserExit(status)

    def _print_message(self, message: str, file: TextIO | None = None) -> None:
        if message and self.output is not None:
            self.output.write(message)


def parse_instant(text: str) -> datetime:
    """ISO 8601 date-time; one without a time zone is taken as UTC."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def build_parser(output: TextIO | None = None, prog: str = "dcc") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="EU Digital COVID Certificate tools")
    parser.output = output
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("verify", help="verify HC1: QR texts, one per line on stdin")
    check.output = output
    check.add_argument(
        "--trust",
        action="append",
        required=True,
        metavar="FILE",
        help="signer certificates: PEM, DER or base64 DER, one or many per file; repeatable",
    )
    check.add_argument("--at", metavar="ISO-8601", help="verification time (default: now); UTC if no zone")
    check.add_argument(
        "--keep-going",
        action="store_true",
        help="run every stage whose input exists, also after a failure (stages show all problems)",
    )
    return parser


def main(argv: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO | None = None) -> int:
    try:
        args = build_parser(stdout).parse_args(argv)
        at = parse_instant(args.at) if args.at else datetime.now(UTC)
        trust = TrustList.from_files(args.trust)
    except _ParserExit as exc:
        return exc.status
    except (_ArgumentError, TrustListError, OSError, ValueError) as exc:
        if stderr is not None:
            print(f"dcc: {exc}", file=stderr)
        return 2
    all_valid = True
    for line in stdin:
        qr_text = line.rstrip("\r\n")
        if not qr_text.strip():
            continue
        result = verify(qr_text, trust, at, keep_going=args.keep_going)
        all_valid = all_valid and result.valid
        stdout.write(json.dumps(result.as_json(), ensure_ascii=False, sort_keys=True) + "\n")
        stdout.flush()
    return 0 if all_valid else 1
