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
    division_code = _local_division(data.division_code, "division_code")
    address = re.sub(r"\s+", " ", str(data.address or "")).strip()
    if not address:
        raise DeclarationError("address_missing", _("Give the address where the person stays."), "address")
    if len(address) > 255:
        raise DeclarationError("address_length", _("The address is longer than 255 characters."), "address")
    observed = str(data.observed or "").strip()
    if len(observed) > 1000:
        raise DeclarationError(
            "observed_length", _("Describe what you saw in at most 1,000 characters."), "observed"
        )
    name = re.sub(r"\s+", " ", str(data.subject_name or "")).strip()
    if len(name) > 64:
        raise DeclarationError("name_length", _("The name is longer than 64 characters."), "subject_name")
    if data.arrived_on is not None and (
        data.arrived_on > rf.local_date(now) or data.arrived_on < rf.local_date(now) - timedelta(days=60)
    ):
        raise DeclarationError("arrived_on_range", _("Give a date within the last 60 days."), "arrived_on")
    origin = _place(data.origin, "origin")
    c = cipher()
    subject_phone = ""
    if data.subject_phone:
        try:
            subject_phone = identity.normalise_phone(data.subject_phone)
        except identity.InvalidIdentity as exc:
            raise DeclarationError(exc.code, exc.message, "subject_phone")
    reporter_phone = ""
    if data.reporter_phone:
        try:
            reporter_phone = identity.normalise_phone(data.reporter_phone)
        except identity.InvalidIdentity as exc:
            raise DeclarationError(exc.code, exc.message, "reporter_phone")
    reporter_name = re.sub(r"\s+", " ", str(data.reporter_name or "")).strip()[:64]
    pk = uuid4()  # made first: the tip's ciphertexts are bound to it
    with transaction.atomic():
        tip = Tip.objects.create(
            id=pk,
            created_at=now,
            division_code=division_code,
            address=address,
            subject_name=name,
            subject_phone_enc=c.encrypt(TIP_PHONE_FIELD, subject_phone, row=pk) if subject_phone else None,
            subject_phone_bidx=people.phone_index(subject_phone) if subject_phone else "",
            subject_phone_masked=identity.mask_phone(subject_phone) if subject_phone else "",
            arrived_on=data.arrived_on,
            origin=origin,
            observed=observed,
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
            division_code=division_code,
            fields=["division_code", "address", "observed"],
        )
        person = None
        if subject_phone:
            matches = list(Person.objects.filter(phone_bidx=tip.subject_phone_bidx, status=Status.ACTIVE)[:2])
            # a phone alone names no one: the person is linked only when the name agrees too
            if len(matches) == 1 and name and claims.same_name(matches[0].name, name):
                person = matches[0]
        open_verification(
            actor=actor,
            kind=VerificationKind.TIP,
            division_code=division_code,
            due_at=now + timedelta(hours=VERIFY_HOURS),
            tip=tip,
            person=person,
            at=now,
        )
    return tip


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
