"""What reading a hostile upload costs (lib.tables): each bomb of tests/lib/hostile.py, and one
that inflates to 3 GB, read in a process of its own capped at 3 GB of address space, with its
peak resident memory, its seconds and the error it ends in. The process's own size (Python,
Django, the file in memory) is the first figure, reading a small good list.

    .venv/bin/python bench/bench_tables.py

One JSON line per file on stdout (`figure`, `file`, `peak_rss_mb`, `value` in s, `outcome`).
"""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from common import emit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CAP = 3 * 1024**3


def build() -> dict[str, bytes]:
    sys.path.insert(0, str(ROOT))
    from tests.lib import hostile

    good = hostile.workbook(
        hostile.sheet_xml(
            f'<row r="1">{hostile.inline("A1", "姓名")}</row><row r="2">{hostile.inline("A2", "张三")}</row>'
        )
    )
    return {
        "good.xlsx": good,
        "zip_bomb_3gb.xlsx": hostile.zip_bomb(3 * 1024**3),
        "zip_bomb.xlsx": hostile.zip_bomb(),
        "lying_zip_bomb.xlsx": hostile.lying_bomb(),
        "sparse_cells.xlsx": hostile.sparse_bomb(),
        "implied_far_cell.xlsx": hostile.implied_bomb(),
        "xxe.xlsx": hostile.xxe(),
        "billion_laughs.xlsx": hostile.billion_laughs(),
    }


def read_one(path: str) -> None:
    """In the child: read one file, print peak RSS, seconds and outcome as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epigrid.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from epigrid.lib import tables

    data = Path(path).read_bytes()
    start = time.perf_counter()
    try:
        table = tables.open_table(data, path)
        outcome = f"read {sum(1 for _ in table.rows)} rows"
    except tables.TableError as exc:
        outcome = exc.code
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": round(peak), "seconds": round(seconds, 3), "outcome": outcome}))


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--read":
        read_one(sys.argv[2])
        return 0
    folder = ROOT / "var" / "bench" / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in build().items():
        path = folder / name
        path.write_bytes(data)

        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))

        done = subprocess.run(
            [sys.executable, __file__, "--read", str(path)],
            capture_output=True,
            text=True,
            preexec_fn=cap,  # the cap is set in the child before it runs anything
            timeout=300,
            cwd=ROOT,
        )
        if done.returncode:
            emit("tables_read", file=name, bytes=len(data), outcome=f"died ({done.returncode})")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        emit(
            "tables_read",
            file=name,
            bytes=len(data),
            peak_rss_mb=result["peak_rss_mb"],
            value=result["seconds"],
            unit="s",
            outcome=result["outcome"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
