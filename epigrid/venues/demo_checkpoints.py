"""The demo's road checkpoint (R5.2, KS10-9): the expressway toll gate into Kunshan with a
shift on now for the `checkpoint` login, and this morning's cars — a local family, a car from
Wuhan (held for transfer, KS10-11) and a driver from elsewhere with a fever (isolated in the
car, KS10-11) — recorded through the services, so the community's tasks are there to see."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta

from django.utils import timezone

from epigrid.accounts.audit import Actor
from epigrid.venues.models import Checkpoint, CheckpointKind

NAME = "G2京沪高速昆山收费站留置工作站"
NAMESPACE = uuid.UUID("0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")


def _town(city: str) -> str:
    from epigrid.regions.models import Division, Level

    town = Division.objects.filter(code__startswith=city, level=Level.TOWN).order_by("code").first()
    return town.code if town else city


def _communities(city: str, count: int) -> list[str]:
    from epigrid.regions.models import Division, Level

    return list(
        Division.objects.filter(code__startswith=city, level=Level.COMMUNITY)
        .order_by("code")
        .values_list("code", flat=True)[:count]
    )


def _local_codes(actor: Actor, city: str, count: int) -> list[str]:
    """Health codes of demo residents, as a scanner reads them (the code id), for the family."""
    from epigrid.healthcode.services import ensure_code
    from epigrid.people.models import Person, Status

    people = Person.objects.filter(status=Status.ACTIVE, division_code__startswith=city).order_by(
        "registered_at", "id"
    )
    return [ensure_code(p, actor=actor).code_id.hex for p in people[:count]]


def seed_checkpoint(*, actor: Actor, city: str = "320583", staff=(), at: datetime | None = None) -> dict:
    from epigrid.demo.population import IdNumbers
    from epigrid.venues.services.checkpoint_stations import CheckpointInput, create_checkpoint, open_shift
    from epigrid.venues.services.checkpoints import OccupantInput, VehicleInput, record_vehicles

    now = at or timezone.now()
    if Checkpoint.objects.filter(name=NAME).exists():
        return {"checkpoints": 0, "vehicles": 0}
    checkpoint = create_checkpoint(
        actor=actor,
        data=CheckpointInput(
            name=NAME,
            kind=CheckpointKind.EXPRESSWAY,
            division_code=_town(city),
            road="G2京沪高速",
            direction="上海→南京方向 昆山出口",
        ),
        at=now,
    )
    open_shift(
        actor=actor,
        checkpoint=checkpoint,
        starts_at=now - timedelta(hours=4),
        ends_at=now + timedelta(hours=8),
        staff=list(staff),
        note="白班",
        at=now,
    )
    rng = random.Random(12)
    numbers = IdNumbers()
    wuhan = numbers.make(rng, "420102", date(1985, 4, 9), "M")
    anhui = numbers.make(rng, "340104", date(1986, 11, 2), "M")
    family = _local_codes(actor, city, 2)
    homes = _communities(city, 2)
    cars = [
        VehicleInput(
            id=uuid.uuid5(NAMESPACE, "family"),
            checkpoint_id=checkpoint.pk,
            passed_at=now - timedelta(hours=2),
            plate="苏E·3K7Q2",
            origin_code="310000",
            origin_text="上海市",
            route="上海 → 昆山玉山镇",
            occupants=[
                OccupantInput(code_id=c, documents=("id_card",), temperature="36.5", is_driver=i == 0)
                for i, c in enumerate(family)
            ],
        ),
        VehicleInput(
            id=uuid.uuid5(NAMESPACE, "wuhan"),
            checkpoint_id=checkpoint.pk,
            passed_at=now - timedelta(hours=1, minutes=20),
            plate="鄂A·8M2D5",
            origin_code="420100",
            origin_text="湖北省武汉市",
            route="武汉 → 昆山花桥镇",
            occupants=[
                OccupantInput(
                    document_number=wuhan,
                    name="刘建国",
                    residence_code=homes[0],
                    documents=("id_card",),
                    temperature="36.7",
                    is_driver=True,
                )
            ],
        ),
        VehicleInput(
            id=uuid.uuid5(NAMESPACE, "fever"),
            checkpoint_id=checkpoint.pk,
            passed_at=now - timedelta(minutes=40),
            plate="皖A·5T9L1",
            origin_code="340100",
            origin_text="安徽省合肥市",
            route="合肥 → 昆山周市镇",
            occupants=[
                OccupantInput(
                    document_number=anhui,
                    name="孙志强",
                    residence_code=homes[-1],
                    documents=("id_card", "work_permit"),
                    temperature="38.3",
                    is_driver=True,
                )
            ],
        ),
    ]
    results = record_vehicles(actor=actor, items=cars, at=now)
    return {"checkpoints": 1, "vehicles": len(results)}
