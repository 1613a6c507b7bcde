"""A person's health code: what it shows (`ColourInfo`), made on first need (`ensure_code`), and
what a merge of two records does to their codes (`merge_codes`)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.healthcode.models import ColourChange, HealthCode
from epigrid.lib.errors import DomainError


class HealthCodeError(DomainError):
    pass


def new_code_id() -> uuid.UUID:
    """16 random bytes: the code's pseudonym in every token. Never derived from the person."""
    return uuid.UUID(bytes=os.urandom(16))


def reason_of(reason: dict) -> dict:
    """A reason as a code stores and shows it: the rule and its words in both languages."""
    return {"rule": reason["rule"], "zh-hans": reason["zh-hans"], "en": reason["en"]}


@dataclass(frozen=True)
class ColourInfo:
    value: str
    reasons: list
    requirements: list
    release: dict | None
    release_at: datetime | None

    @classmethod
    def green(cls) -> ColourInfo:
        """No pack set a colour: green, with nothing behind it."""
        return cls("green", [], [], None, None)

    @property
    def signature(self) -> tuple:
        """What a person sees about the colour: a change in any of it is a history entry."""
        return (
            self.value,
            tuple(r.get("rule", "") for r in self.reasons),
            tuple(self.requirements),
            None if self.release is None else tuple(sorted(self.release.items())),
            self.release_at,
        )

    def shown(self) -> dict:
        """The columns a HealthCode and a ColourChange both keep about the colour, by name."""
        return {
            "reasons": self.reasons,
            "requirements": self.requirements,
            "release": self.release,
            "release_at": self.release_at,
        }


def colour_info(colour) -> ColourInfo:
    """From the engine's `Decision.colour` (or None: no pack set a colour, which is green)."""
    if colour is None:
        return ColourInfo.green()
    return ColourInfo(
        value=colour.value,
        reasons=[reason_of(r) for r in colour.reasons],
        requirements=list(colour.requirements),
        release=dict(colour.release) if colour.release else None,
        release_at=colour.release_at,
    )


def colour_info_from_dict(data: dict | None) -> ColourInfo:
    """From a stored `DecisionRecord.result["colour"]` (the engine's `Colour.to_dict()`)."""
    if not data:
        return ColourInfo.green()
    release_at = data.get("release_at")
    return ColourInfo(
        value=data["value"],
        reasons=[reason_of(r) for r in data.get("reasons", ())],
        requirements=list(data.get("requirements", ())),
        release=data.get("release") or None,
        release_at=datetime.fromisoformat(release_at) if release_at else None,
    )


def stored_signature(row: HealthCode | ColourChange) -> tuple:
    """`ColourInfo.signature` of what a code or a history entry holds."""
    release = row.release
    return (
        row.colour if isinstance(row, HealthCode) else row.new_colour,
        tuple(r.get("rule", "") for r in row.reasons),
        tuple(row.requirements),
        None if release is None else tuple(sorted(release.items())),
        row.release_at,
    )


def ensure_code(person, *, actor: Actor | None = None) -> HealthCode:
    """The person's code, made on first need. A person the rules have not assessed yet is
    assessed now (the colour always comes from the rules); one assessed before this app
    recorded colours gets a code from the stored decision."""
    code = HealthCode.objects.filter(person=person).first()
    if code is not None:
        return code
    from epigrid.rules.models import PersonRuleState
    from epigrid.rules.services import reassess

    actor = actor or Actor.system("healthcode")
    state = PersonRuleState.objects.filter(person=person).select_related("decision").first()
    if state is None:
        reassess(person, actor=actor, cause="healthcode")
        code = HealthCode.objects.filter(person=person).first()
        if code is None:
            raise HealthCodeError("no_code", _("This record has no health code (it was merged)."))
        return code
    return _code_from_stored_decision(person, state.decision, actor)


def _code_from_stored_decision(person, decision, actor: Actor) -> HealthCode:
    info = colour_info_from_dict(decision.result.get("colour"))
    now = timezone.now()
    with transaction.atomic():
        code, created = HealthCode.objects.get_or_create(
            person=person,
            defaults={
                "code_id": new_code_id(),
                "colour": info.value,
                "colour_since": decision.evaluated_at,
                "changed_at": now,
                "decision_id": decision.pk,
                "division_code": person.division_code,
                "created_at": now,
                **info.shown(),
            },
        )
        if created:
            ColourChange.objects.create(
                person=person,
                old_colour="",
                new_colour=info.value,
                at=decision.evaluated_at,
                recorded_at=now,
                decision_id=decision.pk,
                cause="healthcode",
                division_code=person.division_code,
                **info.shown(),
            )
            record(
                actor,
                "create",
                object_type="health_code",
                object_id=person.pk,
                division_code=person.division_code,
                fields=["code_id", "colour"],
            )
    return code


def merge_codes(*, survivor, merged, at: datetime | None = None) -> int:
    """People merge (`HealthCode.on_person_merge`): the survivor keeps its own code; the merged
    record's code is withdrawn (its tokens verify offline until they expire, online they are
    reported revoked). A survivor without a code takes the merged record's code and its
    history. Returns how many codes moved."""
    theirs = HealthCode.objects.filter(person=merged).first()
    if theirs is None:
        return 0
    if HealthCode.objects.filter(person=survivor).exists():
        HealthCode.objects.filter(pk=theirs.pk).update(revoked_at=at or timezone.now())
        return 0
    moved = {"person": survivor, "division_code": survivor.division_code}
    HealthCode.objects.filter(pk=theirs.pk).update(**moved)
    ColourChange.objects.filter(person=merged).update(**moved)
    return 1
