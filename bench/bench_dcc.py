"""Throughput of DCC verification over the valid public test vectors.

    .venv/bin/python bench/bench_dcc.py [--seconds 3] [--vectors ../shared/dcc-testdata]

The vectors are read in place from ../shared/dcc-testdata beside the checkout (or under
EPIGRID_SHARED_DIR); without them the script stops with a message naming the folder.

One trust list holds every vector's signer (as a real one holds many), each vector is verified
at its own validation clock, on one core. Prints one JSON object per figure.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from epigrid.testing.dcc import TrustList, verify  # noqa: E402

SHARED = Path(os.environ.get("EPIGRID_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")
DEFAULT_VECTORS = SHARED / "dcc-testdata"


def load_cases(root: Path) -> tuple[TrustList, list[tuple[str, datetime, str]]]:
    raw = []
    for path in sorted(root.rglob("*.json")):
        if path.relative_to(root).parts[0] in {"schema", "valuesets"}:
            continue
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
        context = data.get("TESTCTX") or {}
        clock = datetime.fromisoformat(context["VALIDATIONCLOCK"])
        raw.append((data.get("PREFIX") or "", clock if clock.tzinfo else clock.replace(tzinfo=UTC), context))
    trust = TrustList.from_ders({base64.b64decode(context["CERTIFICATE"]) for _, _, context in raw})
    cases = []
    for qr_text, clock, _ in raw:
        result = verify(qr_text, trust, clock)
        if result.valid:
            key = trust.find(base64.b64decode(result.kid))[0].public_key
            algorithm = "ps256" if isinstance(key, rsa.RSAPublicKey) else "es256"
            cases.append((qr_text, clock, algorithm))
    return trust, cases


def rate(trust: TrustList, cases: list[tuple[str, datetime, str]], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while True:
        for qr_text, clock, _ in cases:
            verify(qr_text, trust, clock)
        done += len(cases)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS)
    args = parser.parse_args()
    if not args.vectors.is_dir():
        # an absent folder would otherwise measure nothing and print a rate of 0
        parser.exit(2, f"bench_dcc: the DCC test vectors are absent: {args.vectors} not found\n")
    trust, cases = load_cases(args.vectors)
    if not cases:
        parser.exit(2, f"bench_dcc: no valid certificate among the vectors in {args.vectors}\n")
    rate(trust, cases, 0.3)  # warm caches (schema validator, imports)
    figures = [
        ("dcc_valid_vectors", len(cases), "count"),
        ("dcc_trust_list_signers", len(trust), "count"),
        ("dcc_verify_per_s", rate(trust, cases, args.seconds), "1/s"),
    ]
    for algorithm in ("es256", "ps256"):
        subset = [case for case in cases if case[2] == algorithm]
        if subset:
            figures.append((f"dcc_verify_{algorithm}_per_s", rate(trust, subset, args.seconds / 2), "1/s"))
    for figure, value, unit in figures:
        print(json.dumps({"figure": figure, "value": round(value, 1), "unit": unit}))


if __name__ == "__main__":
    main()
