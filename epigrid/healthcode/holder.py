"""What online verification tells a checkpoint about the holder of a code (R4.2, R4.3): the
name masked (`李*新`), so that the staff can see the code is the holder's own without learning
who they are, and, for a red or yellow code, the action the rules name: the measures in force
(what the holder must do), else what clears the colour. Never the ID number, the phone or the
reasons behind the colour.

Offline the scanner knows only what the token carries (colour, issuer, expiry: no name, by
design, so a photographed code gives nothing away); the holder is shown once the server
answered."""

from epigrid.lib.identity import mask_name


def holder_for_checkpoint(person_id, colour: str) -> dict:
    from epigrid.healthcode.models import HealthCode
    from epigrid.people.models import Person
    from epigrid.rules.engine import measure_label
    from epigrid.rules.models import MeasureRecord, MeasureStatus

    name = Person.objects.filter(pk=person_id).values_list("name", flat=True).first() or ""
    out: dict = {"holder": mask_name(name)}
    if colour not in ("red", "yellow"):
        return out
    measures = [
        m.as_measure()
        for m in MeasureRecord.objects.filter(person_id=person_id, status=MeasureStatus.OPEN).order_by(
            "starts_at", "kind"
        )
    ]
    if measures:
        out["action"] = {
            "zh-hans": "；".join(measure_label(m, "zh-hans") for m in measures),
            "en": "; ".join(measure_label(m, "en") for m in measures),
        }
    else:
        release = HealthCode.objects.filter(person_id=person_id).values_list("release", flat=True).first()
        if release:
            out["action"] = {"zh-hans": release.get("zh-hans", ""), "en": release.get("en", "")}
    return out
