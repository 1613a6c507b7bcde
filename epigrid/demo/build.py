"""The whole demo in one call, as `epigrid demo` builds it and the tests build it: the city and
its people, one login per role, arrivals, a pushed list and tips (R2), the neighbouring county,
sampling points, a lab and results (R6), and three health codes to show. Each part seeds once
and reassesses the people it touched, so a second build adds nothing.

`MAIN_PAGES` names each login's main page: where that role finds its work, printed beside the
login so a new user knows where to start.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.people.models import Person

MAIN_PAGES = {
    "province": "tasks:command",
    "city": "tasks:command",
    "county": "tasks:command",
    "taicang": "tasks:command",
    "cdc": "tasks:mine",
    "grid": "tasks:mine",
    "unit": "units:list",
    "sampling": "testing:sample",
    "lab": "testing:lab",
    "checkpoint": "venues:posts",
    "venue": "venues:posts",
    "clinic": "venues:triage",
    "auditor": "accounts:audit",
    "datateam": "declarations:lists",
    "admin": "units:list",
}


@dataclass
class DemoBuild:
    logins: list[dict] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)  # colour (and "scanner") → URL
    links: dict[str, str] = field(default_factory=dict)  # arrival kind → private link token
    counts: dict[str, dict] = field(default_factory=dict)


def build_demo(
    *,
    actor: Actor,
    persons: int = 5000,
    seed: int = 1,
    base_url: str = "http://127.0.0.1:8000",
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoBuild:
    from django.urls import reverse

    from epigrid.declarations.demo import seed_demo as seed_arrivals
    from epigrid.demo.neighbour import seed_neighbour
    from epigrid.demo.services import demo_users, simulate
    from epigrid.healthcode.demo import demo_links
    from epigrid.testing.demo import seed_demo as seed_testing
    from epigrid.venues.demo_posts import seed_venues

    have = Person.objects.filter(division_code__startswith="320583").count()
    if have < persons:
        simulate(actor=actor, persons=persons - have, seed=seed + have, progress=progress)
    build = DemoBuild(logins=demo_users(actor=actor))
    for login in build.logins:
        login["main"] = reverse(MAIN_PAGES[login["username"]])
    now = timezone.now()
    arrivals = seed_arrivals(actor=actor, seed=seed, at=now)
    build.links = arrivals.pop("links", None) or {}
    build.counts["arrivals"] = arrivals
    build.counts["taicang"] = seed_neighbour(actor=actor, seed=seed, at=now)
    build.counts["testing"] = seed_testing(actor=actor, seed=seed, at=now)
    build.codes = demo_links(base_url, actor=actor)
    build.counts["venues"] = seed_venues(actor=actor, seed=seed, at=now)
    return build
