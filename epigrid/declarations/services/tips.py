"""Tips (线索, R2.5): a resident's report of an arrival that may be undeclared becomes a check
for the community (`submit_tip`); the reporter's contact, sealed, is revealed to the few who
need it (`reveal_reporter`)."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import uuid4

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import scope_of
from epigrid.declarations import claims
from epigrid.declarations.models import Channel, Tip, VerificationKind
from epigrid.declarations.services.common import require
from epigrid.declarations.services.verification import VERIFY_HOURS, open_verification
from epigrid.declarations.validation import DeclarationError, _local_division, _place
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import NotFound
from epigrid.people import services as people
from epigrid.people.models import Person, Status
from epigrid.rules import facts as rf

TIP_PHONE_FIELD = "tip.subject_phone"
REPORTER_NAME_FIELD = "tip.reporter_name"
REPORTER_PHONE_FIELD = "tip.reporter_phone"


@dataclass
class TipInput:
    division_code: str
    address: str
    observed: str = ""
    subject_name: str = ""
    subject_phone: str = ""
    arrived_on: date | None = None
    origin: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""


def submit_tip(*, actor: Actor, data: TipInput, at: datetime | None = None) -> Tip:
    """A tip about an arrival that may be undeclared becomes a check for the community (JS79-16).
    It holds facts only; the reporter's contact is encrypted and never shown with the tip."""
    now = at or timezone.now()
    checked = _checked_tip(data, now)
    pk = uuid4()  # made first: the tip's ciphertexts are bound to it
    c = cipher()
    subject_phone, reporter_name, reporter_phone = (
        checked.pop("subject_phone"),
        checked.pop("reporter_name"),
        checked.pop("reporter_phone"),
    )
    with transaction.atomic():
        tip = Tip.objects.create(
            id=pk,
            created_at=now,
            **checked,
            subject_phone_enc=c.encrypt(TIP_PHONE_FIELD, subject_phone, row=pk) if subject_phone else None,
            subject_phone_bidx=people.phone_index(subject_phone) if subject_phone else "",
            subject_phone_masked=identity.mask_phone(subject_phone) if subject_phone else "",
            reporter_name_enc=c.encrypt(REPORTER_NAME_FIELD, reporter_name, row=pk)
            if reporter_name
            else None,
            reporter_phone_enc=c.encrypt(REPORTER_PHONE_FIELD, reporter_phone, row=pk)
            if reporter_phone
            else None,
            channel=Channel.PUBLIC if actor.user is None else Channel.STAFF,
        )
        record(
            actor,
            "create",
            object_type="tip",
            object_id=tip.pk,
            division_code=tip.division_code,
            fields=["division_code", "address", "observed"],
        )
        open_verification(
            actor=actor,
            kind=VerificationKind.TIP,
            division_code=tip.division_code,
            due_at=now + timedelta(hours=VERIFY_HOURS),
            tip=tip,
            person=_subject_of(tip),
            at=now,
        )
    return tip


def _checked_tip(data: TipInput, now: datetime) -> dict:
    """The tip's fields as stored, checked one by one (the first problem is raised); the phones
    and the reporter's name in plain text, for the caller to index and seal."""
    division_code = _local_division(data.division_code, "division_code")
    address = _one_line(data.address)
    if not address:
        raise DeclarationError("address_missing", _("Give the address where the person stays."), "address")
    if len(address) > 255:
        raise DeclarationError("address_length", _("The address is longer than 255 characters."), "address")
    observed = str(data.observed or "").strip()
    if len(observed) > 1000:
        raise DeclarationError(
            "observed_length", _("Describe what you saw in at most 1,000 characters."), "observed"
        )
    name = _one_line(data.subject_name)
    if len(name) > 64:
        raise DeclarationError("name_length", _("The name is longer than 64 characters."), "subject_name")
    if data.arrived_on is not None and (
        data.arrived_on > rf.local_date(now) or data.arrived_on < rf.local_date(now) - timedelta(days=60)
    ):
        raise DeclarationError("arrived_on_range", _("Give a date within the last 60 days."), "arrived_on")
    return {
        "division_code": division_code,
        "address": address,
        "subject_name": name,
        "arrived_on": data.arrived_on,
        "origin": _place(data.origin, "origin"),
        "observed": observed,
        "subject_phone": _phone(data.subject_phone, "subject_phone"),
        "reporter_name": _one_line(data.reporter_name)[:64],
        "reporter_phone": _phone(data.reporter_phone, "reporter_phone"),
    }


def _one_line(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _phone(text: str, field: str) -> str:
    if not text:
        return ""
    try:
        return identity.normalise_phone(text)
    except identity.InvalidIdentity as exc:
        raise DeclarationError(exc.code, exc.message, field)


def _subject_of(tip: Tip) -> Person | None:
    """The registered person the tip is about, when its phone and name both agree: a phone
    alone names no one."""
    if not tip.subject_phone_bidx:
        return None
    matches = list(Person.objects.filter(phone_bidx=tip.subject_phone_bidx, status=Status.ACTIVE)[:2])
    if len(matches) == 1 and tip.subject_name and claims.same_name(matches[0].name, tip.subject_name):
        return matches[0]
    return None


def reveal_reporter(*, actor: Actor, tip: Tip, purpose: str = "") -> dict:
    """The reporter's contact, for the few who need it (TIPS_REPORTER), audited before it is
    decrypted."""
    require(actor, Perm.TIPS_REPORTER)
    if not scope_of(actor.user).covers_division(tip.division_code):
        raise NotFound("not_found", _("Not found."))
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="tip",
            object_id=tip.pk,
            division_code=tip.division_code,
            fields=["reporter"],
            note=str(purpose or "")[:120],
        )
        c = cipher()
        return {
            "name": c.decrypt(REPORTER_NAME_FIELD, tip.reporter_name_enc, row=tip.pk)
            if tip.reporter_name_enc
            else "",
            "phone": c.decrypt(REPORTER_PHONE_FIELD, tip.reporter_phone_enc, row=tip.pk)
            if tip.reporter_phone_enc
            else "",
        }
