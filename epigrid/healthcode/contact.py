"""The contact a person leaves on a correction request (申诉): a phone or any other way to reach
them. Stored like every phone (docs/design.md "Personal identifiers"): a ciphertext bound to
the request's row, a blind index and a masked form; revealed only to a reviewer in scope, with
the audit row written first."""

from django.db import transaction
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.roles import Perm
from epigrid.accounts.scoping import division_in_scope
from epigrid.lib import identity
from epigrid.lib.crypto import cipher
from epigrid.lib.errors import Forbidden, NotFound

CONTACT_FIELD = "healthcode.contact"
CONTACT_INDEX = "contact"  # a contact that is not a phone: its own index space
PHONE_INDEX = "phone"  # people.services.PHONE_INDEX: a phone contact finds the person's phone


def _as_phone(contact: str) -> str:
    try:
        return identity.normalise_phone(contact)
    except identity.InvalidIdentity:
        return ""


def mask_contact(contact: str) -> str:
    """A phone as every phone is shown; anything else by its first and last character."""
    phone = _as_phone(contact)
    if phone:
        return identity.mask_phone(phone)
    if len(contact) <= 2:
        return "*" * len(contact)
    return contact[0] + "*" * min(len(contact) - 2, 8) + contact[-1]


def sealed_columns(contact: str, *, row) -> dict:
    """The contact columns of the correction request whose id is `row`."""
    contact = (contact or "").strip()
    if not contact:
        return {"contact_enc": None, "contact_bidx": "", "contact_masked": ""}
    c = cipher()
    phone = _as_phone(contact)
    return {
        "contact_enc": c.encrypt(CONTACT_FIELD, contact, row=row),
        "contact_bidx": c.blind_index(PHONE_INDEX, phone)
        if phone
        else c.blind_index(CONTACT_INDEX, contact.casefold()),
        "contact_masked": mask_contact(contact),
    }


def reveal_contact(*, actor: Actor, request, purpose: str = "") -> str:
    """The contact in full for a reviewer who must reach the person, audited before it is
    decrypted."""
    if actor.user is None or not actor.user.has_epigrid_perm(Perm.HEALTHCODE_REVIEW):
        raise Forbidden("reveal_forbidden", _("Your role may not reveal a correction request's contact."))
    if not division_in_scope(actor.user, request.division_code):
        raise NotFound("not_found", _("Not found."))
    if not request.contact_enc:
        return ""
    with transaction.atomic():
        record(
            actor,
            "reveal",
            object_type="healthcode_correction",
            object_id=request.pk,
            division_code=request.division_code,
            fields=["contact"],
            note=str(purpose or "")[:120],
        )
        return cipher().decrypt(CONTACT_FIELD, request.contact_enc, row=request.pk)
