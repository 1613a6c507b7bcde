"""Division codes in words on list pages: each item's division as its name (the grid cell's, or
its community's when the cell is unknown), one query for a whole page."""

from collections.abc import Iterable


def label_divisions(items: Iterable, language: str, attr: str = "division_code") -> None:
    """Set `division_label` on each item from its `attr` code."""
    from epigrid.regions.models import Division

    items = list(items)
    codes = {getattr(i, attr) or "" for i in items}
    codes |= {code[:12] for code in codes}
    names = {d.code: d.name_for(language) for d in Division.objects.filter(code__in=codes - {""})}
    for item in items:
        code = getattr(item, attr) or ""
        item.division_label = names.get(code) or names.get(code[:12], "")
