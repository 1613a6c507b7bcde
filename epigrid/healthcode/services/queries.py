"""Reads for the code pages and the API: a person's colour history, their correction requests
and what the rules ask of them now."""

from __future__ import annotations

from epigrid.healthcode.labels import language_key
from epigrid.healthcode.models import ColourChange, CorrectionRequest, CorrectionStatus


def history(person) -> list[ColourChange]:
    return list(ColourChange.objects.filter(person=person).order_by("-at", "-id"))


def corrections_of(person) -> list[CorrectionRequest]:
    return list(CorrectionRequest.objects.filter(person=person).order_by("-created_at"))


def open_correction_id(person):
    """The id of the person's correction request under review, or None."""
    return (
        CorrectionRequest.objects.filter(person=person, status=CorrectionStatus.OPEN)
        .values_list("pk", flat=True)
        .first()
    )


def open_measures(person, language: str) -> list[dict]:
    """What the rules ask of the person now (their open measures), as lines to read: the
    measure with its dates, its state, the reason and the clauses."""
    from epigrid.rules.engine import measure_label
    from epigrid.rules.models import MeasureRecord, MeasureStatus

    language = language_key(language)
    rows = []
    for rec in MeasureRecord.objects.filter(person=person, status=MeasureStatus.OPEN).order_by(
        "starts_at", "kind"
    ):
        measure = rec.as_measure()
        try:
            text = measure_label(measure, language)
        except (KeyError, TypeError, ValueError):  # a kind this version cannot word: say the kind
            text = rec.kind
        rows.append(
            {
                "text": text,
                "state": rec.state,
                "reason": rec.reason(language),
                "rule": rec.rule_id,
                "requirements": list(rec.requirements),
            }
        )
    return rows
