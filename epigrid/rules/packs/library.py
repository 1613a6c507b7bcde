"""`PackLibrary`: the packs of a directory, and which of them are in force for a division on a day;
`default_library` (the shipped packs) and `packs_in_force`."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from epigrid.lib.chinatime import local_date

from ..conditions.node import gettext as _
from ..facts import division_prefix
from .loading import PACKS_DIR, load_pack
from .schema import Pack, PackError


class PackLibrary:
    """All packs of a directory, with the selection of those in force for a division and time."""

    def __init__(self, packs: Iterable[Pack]):
        self.packs = tuple(sorted(packs, key=lambda p: (p.id, p.version)))
        seen: dict[tuple[str, int], Pack] = {}
        for pack in self.packs:
            key = (pack.id, pack.version)
            if key in seen:
                raise PackError(
                    _("%(id)s version %(version)s also defined in %(file)s; give the new one a new version")
                    % {"id": pack.id, "version": pack.version, "file": seen[key].file},
                    pack.file,
                )
            seen[key] = pack
        self._selected: dict[tuple[str, date], tuple[Pack, ...]] = {}

    @classmethod
    def from_directory(cls, directory: str | Path = PACKS_DIR) -> PackLibrary:
        return cls(load_pack(p) for p in sorted(Path(directory).glob("*.yaml")))

    def get(self, pack_id: str, version: int | None = None) -> Pack:
        candidates = [p for p in self.packs if p.id == pack_id and (version is None or p.version == version)]
        if not candidates:
            raise KeyError(pack_id if version is None else f"{pack_id}@{version}")
        return max(candidates, key=lambda p: p.version)

    def in_force(self, division_code: str, at: datetime) -> tuple[Pack, ...]:
        """The packs bound to a prefix of `division_code` and valid on the day of `at` (China time).

        When two versions of one pack are both valid that day, the one that took effect last
        wins (then the higher version). The result is ordered from the broadest jurisdiction to
        the most specific, which is the order rules are combined in.
        """
        day = local_date(at)
        key = (division_prefix(division_code), day)
        cached = self._selected.get(key)
        if cached is not None:
            return cached
        best: dict[str, Pack] = {}
        for pack in self.packs:
            if key[0].startswith(pack.prefix) and pack.valid_on(day):
                current = best.get(pack.id)
                if current is None or (pack.valid_from, pack.version) > (current.valid_from, current.version):
                    best[pack.id] = pack
        selected = tuple(sorted(best.values(), key=lambda p: (len(p.prefix), p.id)))
        if len(self._selected) > 4096:
            self._selected.clear()
        self._selected[key] = selected
        return selected


@functools.cache
def default_library() -> PackLibrary:
    """The packs shipped in `epigrid/rules/packs/`, loaded once per process."""
    return PackLibrary.from_directory(PACKS_DIR)


def packs_in_force(division_code: str, at: datetime, library: PackLibrary | None = None) -> tuple[Pack, ...]:
    return (library or default_library()).in_force(division_code, at)
