"""The venues part of the demo: venues and a week of entries (`venues.demo`), the `venue`
login posted at a supermarket's door, and the expressway checkpoint with the `checkpoint`
login on its shift (`venues.demo_checkpoints`)."""

from __future__ import annotations

from datetime import datetime

from epigrid.accounts.audit import Actor

POSTED_AT = "润华超市"


def seed_venues(*, actor: Actor, seed: int = 1, at: datetime | None = None) -> dict:
    from epigrid.accounts.models import User
    from epigrid.venues.demo import demo_venues, seed_demo
    from epigrid.venues.demo_checkpoints import seed_checkpoint
    from epigrid.venues.services.venues import add_staff
    from epigrid.venues.types import ensure_types

    ensure_types()
    counts = seed_demo(actor=actor, seed=seed, at=at)
    counts.pop("index_person_ids", None)
    door = User.objects.filter(username="venue").first()
    venue = next((v for v in demo_venues() if v.name == POSTED_AT), None)
    if door is not None and venue is not None and not venue.staff.filter(user=door).exists():
        add_staff(actor=actor, venue=venue, user=door, at=at)
    staff = list(User.objects.filter(username="checkpoint"))
    counts.update(seed_checkpoint(actor=actor, staff=staff, at=at))
    return counts
