"""Venues, checkpoints and scans (R4.2, R4.3, R5): who was where, when, and with whom.

A fact producer: venue entries and checkpoint passes give the rules the temperatures measured
and the places a person came from; the cases issue takes its contact candidates from the
co-location query here. Map of the app: `docs/venues.md`.
"""
