"""The GB/T 2260 county table that python-stdnum ships (`stdnum/cn/loc.dat`), read as records.

What the file really holds: a line per province (`32 province="江苏省"`) and, indented under it,
a line per four-digit suffix (`  0583 county="[1989-]昆山市"`). Suffix `xx00` is the
prefecture-level division, `0000` repeats a municipality's name. A name may carry validity
years (`[1989-]`, `[1983-1989]`) and a code may have held several names over time
(`[1983-1999]郊区,[2000-]滨湖区`). Nothing below county level is in it.

The file is compiled from the Chinese Wikipedia, where some names are in traditional
characters (`香港特別行政區`, `加格達奇區`). The mainland's tables write them in simplified
characters, and so does this reader (`simplified`).
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

_NAME = re.compile(r"^(?:\[(\d{4})?-(\d{4})?\])?(.+)$")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _is_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def simplified(name: str) -> str:
    """The name in simplified characters. Only characters outside GB 2312 (the simplified set)
    are converted, one by one: a converter run over a whole name would also turn characters
    that are right as they are (`乾安县` would become `干安县`), and rare simplified characters
    outside GB 2312 (`埇桥区`, `硚口区`) come back unchanged."""
    if all(_is_gb2312(ch) for ch in name):
        return name
    return "".join(ch if _is_gb2312(ch) else _t2s().convert(ch) for ch in name)


@dataclass
class DivisionRecord:
    code: str
    level: int  # 1 province, 2 prefecture, 3 county
    parent: str | None
    name: str
    valid_from: int | None
    valid_to: int | None
    former_names: list[dict] = field(default_factory=list)
    # every period in which the code was in use, as (from, to) years with None for open ends:
    # an ID number is valid only if its birth year falls in one of them
    periods: list[tuple[int | None, int | None]] = field(default_factory=list)

    def in_use(self, year: int) -> bool:
        return any(
            (start is None or start <= year) and (end is None or year <= end) for start, end in self.periods
        )


def _parse_names(raw: str) -> tuple[str, int | None, int | None, list[dict], list[tuple]]:
    periods = []
    for part in raw.split(","):
        match = _NAME.match(part.strip())
        if not match:
            continue
        start, end, name = match.groups()
        name = simplified(name)
        periods.append({"name": name, "from": int(start) if start else None, "to": int(end) if end else None})
    # the latest period names the division; earlier names are kept for history and old IDs
    periods.sort(key=lambda p: (p["to"] is None, p["to"] or 0, p["from"] or 0))
    latest = periods[-1]
    valid_from = (
        min((p["from"] for p in periods if p["from"]), default=None)
        if all(p["from"] for p in periods)
        else None
    )
    spans = [(p["from"], p["to"]) for p in periods]
    return latest["name"], valid_from, latest["to"], periods[:-1], spans


def read_table() -> list[DivisionRecord]:
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    records: dict[str, DivisionRecord] = {}
    province = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            code2, rest = line.split(" ", 1)
            name = simplified(rest.split('"')[1])
            province = code2
            records[code2 + "0000"] = DivisionRecord(
                code2 + "0000", 1, None, name, None, None, [], [(None, None)]
            )
            continue
        suffix, rest = line.strip().split(" ", 1)
        if province is None or suffix == "0000":
            continue
        raw = rest.split('"')[1]
        name, valid_from, valid_to, former, spans = _parse_names(raw)
        code = province + suffix
        if suffix.endswith("00"):
            records[code] = DivisionRecord(
                code, 2, province + "0000", name, valid_from, valid_to, former, spans
            )
        else:
            prefecture = province + suffix[:2] + "00"
            records[code] = DivisionRecord(code, 3, prefecture, name, valid_from, valid_to, former, spans)
    # A county whose prefecture line is missing hangs off the province directly.
    for record in records.values():
        if record.parent and record.parent not in records:
            record.parent = record.code[:2] + "0000"
    return sorted(records.values(), key=lambda r: r.code)
