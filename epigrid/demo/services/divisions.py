"""The demo city: towns, communities and grid cells below the demo county, and grid workers
for every cell (`build_city`)."""

import random
from collections.abc import Callable

from django.db import transaction

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.models import ScopeGrant, User
from epigrid.accounts.roles import Role
from epigrid.demo.city import CITY_CODE, plan_city
from epigrid.lib.names import english_division_name, pinyin
from epigrid.regions.models import Division, Level
from epigrid.regions.services import load_country

Progress = Callable[[str, int, int], None]


def _division(code: str, parent: str, level: int, name: str, lat, lon, name_en: str = "") -> Division:
    return Division(
        code=code,
        parent_id=parent,
        level=level,
        prefix=code,
        name_zh=name,
        name_pinyin=pinyin(name),
        name_en=name_en or english_division_name(name),
        latitude=lat,
        longitude=lon,
    )


def _planned_divisions(county: Division, seed: int) -> list[Division]:
    rows: list[Division] = []
    for town in plan_city(seed):
        rows.append(_division(town.code, county.code, Level.TOWN, town.name, town.lat, town.lon))
        for community in town.communities:
            ccode = f"{town.code}{community.number:03d}"
            rows.append(
                _division(ccode, town.code, Level.COMMUNITY, community.name, community.lat, community.lon)
            )
            for grid in community.grids:
                rows.append(
                    _division(
                        f"{ccode}{grid.number:03d}",
                        ccode,
                        Level.GRID,
                        grid.name,
                        community.lat,
                        community.lon,
                        name_en=f"{pinyin(community.name[:-2]).capitalize()} Grid {grid.number}",
                    )
                )
    return rows


def _grid_workers(grids: list[Division], rng: random.Random) -> list[User]:
    """One or two workers for each grid cell that has none yet."""
    have_workers = set(
        ScopeGrant.objects.filter(
            user__role=Role.GRID_WORKER, division_prefix__startswith=CITY_CODE
        ).values_list("division_prefix", flat=True)
    )
    users = []
    for grid in grids:
        if grid.code in have_workers:
            continue
        for n in range(1 if rng.random() < 0.5 else 2):
            # grid workers start without a password: an administrator activates each account
            users.append(
                User(
                    username=f"gw{grid.code}-{n + 1}",
                    role=Role.GRID_WORKER,
                    division_code=grid.code,
                    display_name=f"{grid.name_zh}网格员{n + 1}",
                    password="!",
                )
            )
    return users


def build_city(*, actor: Actor, seed: int = 1, progress: Progress | None = None) -> dict:
    """Towns, communities and grid cells of the demo county, and grid workers for each cell.
    Idempotent: what exists is left alone."""
    if not Division.objects.filter(code=CITY_CODE).exists():
        load_country(actor=actor)
    county = Division.objects.get(code=CITY_CODE)
    rows = _planned_divisions(county, seed)
    existing = set(Division.objects.filter(code__startswith=CITY_CODE).values_list("code", flat=True))
    new_rows = [r for r in rows if r.code not in existing]
    rng = random.Random(f"workers-{seed}")
    with transaction.atomic():
        for level in (Level.TOWN, Level.COMMUNITY, Level.GRID):
            Division.objects.bulk_create([r for r in new_rows if r.level == level], batch_size=1000)
        users = _grid_workers([r for r in rows if r.level == Level.GRID], rng)
        User.objects.bulk_create(users, batch_size=1000)
        by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in users])}
        ScopeGrant.objects.bulk_create(
            [ScopeGrant(user=by_name[u.username], division_prefix=u.division_code) for u in users],
            batch_size=1000,
        )
        record(
            actor,
            "import",
            object_type="division",
            division_code=CITY_CODE,
            note=f"demo city: {len(new_rows)} divisions, {len(users)} grid workers",
        )
    if progress:
        progress("city", len(rows), len(rows))
    return {"divisions": len(new_rows), "grid_workers": len(users)}
