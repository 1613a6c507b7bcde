"""Clause IDs of the five source documents, so a pack can cite only clauses that exist.

An ID is the document prefix plus the clause number as printed (REQUIREMENTS.md): Arabic item
numbers as they are (`JS79-13`), Chinese ordinal headings as section.item (`JX57-2.3` is section
二, item （三）). The lists follow the printed numbering of each document in shared/seeds.
"""


def _ids(prefix: str, *numbers: str) -> frozenset[str]:
    return frozenset(f"{prefix}-{n}" for n in numbers)


def _range(start: int, stop: int) -> tuple[str, ...]:
    return tuple(str(n) for n in range(start, stop + 1))


CLAUSES: dict[str, frozenset[str]] = {
    # 苏肺炎防控办〔2020〕79号: items 1–16 numbered straight through its three sections.
    "JS79": _ids("JS79", *_range(1, 16)),
    # 昆防指〔2020〕10号: items 1–21 under 三, and the four work requirements under 四.
    "KS10": _ids("KS10", *_range(1, 21), "4.1", "4.2", "4.3", "4.4"),
    # 苏政传发〔2020〕125号, the Jiangsu cover notice: items 一 to 四.
    "JS125": _ids("JS125", *_range(1, 4)),
    # 联防联控机制综发〔2020〕182号: 一 (一)–(五), 二 (一)–(五) with 5.1–5.6 under (五), and 三.
    "NA182": _ids(
        "NA182",
        "1",
        "1.1",
        "1.2",
        "1.3",
        "1.4",
        "1.5",
        "2",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        *(f"2.5.{n}" for n in _range(1, 6)),
        "3",
    ),
    # 赣新冠指明电〔2020〕57号: items （一）–（十六） numbered straight through sections 二 to 四.
    "JX57": _ids(
        "JX57",
        "1",
        "2",
        "2.1",
        "2.2",
        "2.3",
        "3",
        *(f"3.{n}" for n in _range(4, 12)),
        "4",
        *(f"4.{n}" for n in _range(13, 16)),
    ),
    # Xuchang command office, May 2020 (the text starts at section 二).
    "XC": _ids("XC", "2", "2.1", "2.2", "2.3", "3", "3.1", "3.2", "3.3", "3.4", "4", "4.1", "4.2", "4.3"),
}

KNOWN_CLAUSES: frozenset[str] = frozenset().union(*CLAUSES.values())
