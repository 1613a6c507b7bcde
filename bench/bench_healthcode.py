"""Offline health code verification against raw Ed25519, on one core, in one run.

Prints one JSON line per figure. The limit: offline `verify` must reach 8,000 tokens/s where
raw Ed25519 verify reaches about 10,600/s on the reference machine, i.e. our decoding and
checks may cost at most ~25% on top of the signature. Both are measured here, so a slower or
faster machine moves both; `healthcode_overhead_ratio` is the machine-independent figure.

    .venv/bin/python bench/bench_healthcode.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta

from epigrid.healthcode import keylists, tokens
from epigrid.healthcode.keylists import PublicKey, PublicKeyList, TrustList
from epigrid.healthcode.tokens import PREFIX, b45decode, issue, verify

LIMIT_PER_S = 8000
REFERENCE_RAW_PER_S = 10600
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
PROVINCES = ["CN-11", "CN-31", "CN-32", "CN-33", "CN-34", "CN-36", "CN-42", "CN-44"]


def _rate(call, items, seconds: float) -> float:
    """Calls per second of `call(item)`, cycling through `items`, best of three rounds."""
    best = 0.0
    for _ in range(3):
        done = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for item in items:
                call(item)
            done += len(items)
            now = time.perf_counter()
            if now >= deadline:
                break
        best = max(best, done / (now - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent on each figure")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        # one core, so the figure is per core whatever the machine's core count
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    # a checkpoint trusting several provinces, each with a current and a retired key
    key_lists, signers = [], {}
    for issuer in PROVINCES:
        old, new = keylists.generate_signing_key(), keylists.generate_signing_key()
        old_pub = PublicKey.for_signing_key(issuer, old, T0 - timedelta(days=60), T0 + timedelta(days=1))
        new_pub = PublicKey.for_signing_key(issuer, new, T0 - timedelta(days=1))
        key_lists.append(PublicKeyList(issuer, [old_pub, new_pub]))
        signers[issuer] = (new, new_pub.kid)
    trust = TrustList(key_lists)

    colours = list(tokens.Colour)
    batch = []
    for i in range(1000):
        issuer = PROVINCES[i % len(PROVINCES)]
        key, kid = signers[issuer]
        batch.append(issue(key, issuer, kid, os.urandom(16), colours[i % 3], T0, timedelta(minutes=10)))
    at = T0 + timedelta(minutes=1)
    assert all(verify(token, trust, at).valid for token in batch)

    # raw: one key, messages and signatures of exactly the size a token carries
    raw_key = signers["CN-32"][0]
    public = raw_key.public_key()
    pairs = []
    for token in batch:
        raw = b45decode(token[len(PREFIX) :])
        message = raw[:-64]
        pairs.append((raw_key.sign(message), message))

    def raw_verify(pair):
        public.verify(*pair)

    def offline_verify(token):
        verify(token, trust, at)

    raw_rate = _rate(raw_verify, pairs, args.seconds)
    ours = _rate(offline_verify, batch, args.seconds)
    ratio = ours / raw_rate
    figures = [
        {"figure": "ed25519_raw_verify_per_s", "value": round(raw_rate), "unit": "1/s"},
        {
            "figure": "healthcode_offline_verify_per_s",
            "value": round(ours),
            "unit": "1/s",
            "limit": LIMIT_PER_S,
        },
        {
            "figure": "healthcode_overhead_ratio",
            "value": round(ratio, 3),
            "unit": "ratio",
            # 8,000 / 10,600: the share of raw speed the requirement asks to keep
            "limit": round(LIMIT_PER_S / REFERENCE_RAW_PER_S, 3),
        },
    ]
    for figure in figures:
        print(json.dumps(figure))


if __name__ == "__main__":
    main()
