"""Counting changes per town and community: what a what-if shows and a run reports."""

from collections import Counter, defaultdict
from collections.abc import Mapping

COUNT_FIELDS = (
    "people",
    "first",
    "affected",
    "measures",
    "opened",
    "closed",
    "colour",
    "to_red",
    "to_yellow",
    "to_green",
)


def _as_dict(rows: Mapping[str, Counter]) -> dict:
    return {key: {f: row[f] for f in COUNT_FIELDS if row[f]} for key, row in sorted(rows.items())}


class ChangeCounter:
    """Changes per town (9 digits) and community (12 digits), and in total (key ""). `people`
    counts every decision that changes, `first` the first assessments among them, `affected`
    the people whose measures or colour change (what a publication does to people; a first
    assessment that asks nothing of its person is not among them)."""

    def __init__(self):
        self.rows: dict[str, Counter] = defaultdict(Counter)

    def add(self, division_code: str, *, first: bool, old_colour, new_colour: str, opened: int, closed: int):
        colour_changed = (old_colour or "green") != new_colour
        keys = [""]
        if len(division_code) >= 9:
            keys.append(division_code[:9])
        if len(division_code) >= 12:
            keys.append(division_code[:12])
        for key in keys:
            row = self.rows[key]
            row["people"] += 1
            row["first"] += first
            row["affected"] += bool(opened or closed or colour_changed)
            row["measures"] += bool(opened or closed)
            row["opened"] += opened
            row["closed"] += closed
            if colour_changed:
                row["colour"] += 1
                row[f"to_{new_colour}"] += 1

    def add_change(self, e, plan) -> None:
        """Count one evaluated person (`evaluation.Evaluated`) whose decision changed, with its
        measure plan."""
        self.add(
            e.person.division_code,
            first=e.stored is None,
            old_colour=e.old_colour,
            new_colour=e.colour,
            opened=len(plan.opened),
            closed=len(plan.closed),
        )

    def as_dict(self) -> dict:
        return _as_dict(self.rows)

    @staticmethod
    def merge(*counts: Mapping) -> dict:
        total: dict[str, Counter] = defaultdict(Counter)
        for part in counts:
            for key, row in (part or {}).items():
                total[key].update(row)
        return _as_dict(total)
