"""API: checkpoints (see api/__init__)."""

from ninja import Router

router = Router(tags=["venues"])
