"""The venues API: one router per use, joined here (`epigrid/api.py` mounts it at /venues)."""

from ninja import Router

from epigrid.venues.api import checkpoints, entries, registry, trace

router = Router(tags=["venues"])
for part in (registry, entries, checkpoints, trace):
    router.add_router("", part.router)
