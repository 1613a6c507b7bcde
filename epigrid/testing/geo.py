"""Distances for "the nearest sampling point" (R6.1): plain functions, no ORM."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

EARTH_RADIUS_KM = 6371.0088


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    return (
        lat is not None
        and lon is not None
        and not (math.isnan(lat) or math.isnan(lon))
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) around a point: a cheap prefilter before distances."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(0.01, math.cos(math.radians(lat)))
    dlon = min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def nearest(lat: float, lon: float, points: Iterable, limit: int = 5) -> list[tuple[float, object]]:
    """The `limit` nearest of `points` (objects with latitude/longitude), as (km, point), closest
    first; points without coordinates are left out. Ties keep the input order."""
    scored = [
        (distance_km(lat, lon, p.latitude, p.longitude), i, p)
        for i, p in enumerate(points)
        if valid_coordinates(p.latitude, p.longitude)
    ]
    scored.sort(key=lambda t: (t[0], t[1]))
    return [(round(km, 2), p) for km, _, p in scored[:limit]]


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """'31.38, 120.98' (latitude first, as map apps copy it) → (31.38, 120.98); None if unreadable."""
    if not text:
        return None
    parts: Sequence[str] = [p for p in text.replace("，", ",").replace(" ", ",").split(",") if p]
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    return (lat, lon) if valid_coordinates(lat, lon) else None
