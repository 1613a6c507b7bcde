"""Services of the demo app, by noun:

- `divisions`: the demo city's towns, communities, grid cells and grid workers (`build_city`).
- `units`: the city's enterprises, schools with classes, homes and institutions (`insert_units`).
- `people`: a seeded population in households, on rosters, with duplicates for the dedup page
  (`simulate`), and the planner's statistics after a bulk load (`refresh_statistics`).
- `logins`: one demo login per role (`demo_users`, `DEMO_PASSWORD`, `login_grid`).
The story data the demo walks through is seeded by the apps it belongs to (`demo.build`).

Re-exported here: the names the demo's commands, other apps and the benches import.
"""

from epigrid.demo.services.divisions import build_city
from epigrid.demo.services.logins import DEMO_PASSWORD, demo_users, login_grid
from epigrid.demo.services.people import refresh_statistics, simulate

__all__ = ["DEMO_PASSWORD", "build_city", "demo_users", "login_grid", "refresh_statistics", "simulate"]
