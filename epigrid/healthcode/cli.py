"""`healthcode verify`: check health code tokens offline against published key lists.

    healthcode verify [TOKEN] --keys FILE [--keys FILE ...] [--at ISO-8601]

With no TOKEN, tokens are read one per line from stdin. One JSON object is printed per token.
Exit status: 0 when every token is valid, 1 when any is not, 2 on a usage or key-file error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from epigrid.healthcode.keylists import KeyListError, TrustList, load_trust_list
from epigrid.healthcode.tokens import Verification, verify


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse would exit the process on a bad argument; main() must return a status instead
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="healthcode", description="Health code (健康码) token tools.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("verify", help="verify tokens offline against key lists")
    check.add_argument("token", nargs="?", help="the token; omit to read one per line from stdin")
    check.add_argument(
        "--keys",
        action="append",
        required=True,
        metavar="FILE",
        help="a key list or trust list JSON file; repeat to trust several issuers",
    )
    check.add_argument("--at", help="verification time, ISO-8601 with offset (default: now)")
    return parser


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _UsageError(f"--at is not ISO-8601: {text!r}")
    if moment.tzinfo is None:
        # a bare local time would be read differently on a Beijing and a UTC machine
        raise _UsageError(f"--at needs a UTC offset, e.g. {text}+08:00 or {text}Z")
    return moment


def _load_keys(paths: Sequence[str]) -> TrustList:
    documents = []
    for path in paths:
        try:
            documents.append(Path(path).read_bytes())
        except OSError as exc:
            raise _UsageError(f"cannot read key file {path}: {exc.strerror}")
    try:
        return load_trust_list(*documents)
    except KeyListError as exc:
        raise _UsageError(f"bad key file: {exc}")


def _as_json(result: Verification) -> str:
    return json.dumps(
        {
            "valid": result.valid,
            "reason": str(result.reason),
            "colour": None if result.colour is None else str(result.colour),
            "issuer": result.issuer,
            "kid": result.kid,
            "expires": None if result.expires is None else result.expires.isoformat().replace("+00:00", "Z"),
        }
    )


def _tokens_from(stdin: TextIO) -> Iterable[str]:
    for line in stdin:
        # only the line ending goes: a space is a base45 digit and may end a real token
        token = line.rstrip("\r\n")
        if token:
            yield token


def main(argv: Sequence[str], stdin: TextIO, stdout: TextIO) -> int:
    try:
        args = _parser().parse_args(list(argv))
        trust = _load_keys(args.keys)
        at = _parse_at(args.at)
    except _UsageError as exc:
        print(f"healthcode: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        # --help: argparse has printed the help and asks to exit
        return exc.code if isinstance(exc.code, int) else 0
    tokens = [args.token] if args.token is not None else _tokens_from(stdin)
    all_valid = True
    for token in tokens:
        result = verify(token, trust, at)
        all_valid = all_valid and result.valid
        stdout.write(_as_json(result) + "\n")
    return 0 if all_valid else 1
