"""Identity documents and phone numbers: validation, normalisation and masking.

Resident ID numbers follow GB 11643: 17 digits and a check digit (ISO 7064 MOD 11-2), with a
division code (GB/T 2260) valid in the birth year and a real birth date. python-stdnum does
the arithmetic and knows the county table; this module turns its exceptions into reasons a
person at a counter can act on.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from epigrid.lib.errors import DomainError

RESIDENT_ID = "resident_id"
PASSPORT = "passport"
HK_MACAO_PERMIT = "hk_macao_permit"
TAIWAN_PERMIT = "taiwan_permit"
FOREIGN_RESIDENCE = "foreign_residence"
OTHER = "other"
DOCUMENT_TYPES = (RESIDENT_ID, PASSPORT, HK_MACAO_PERMIT, TAIWAN_PERMIT, FOREIGN_RESIDENCE, OTHER)


class InvalidIdentity(DomainError):
    """A document number that cannot be right; `code` is stable for API clients, `message` is
    in the reader's language. Callers name the field it came from when they re-raise it."""


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "M" or "F", from the parity of the 17th digit
    division_code: str


def check_digit(body17: str) -> str:
    """The GB 11643 check character for 17 digits (python-stdnum wants a full-length number)."""
    return ric.calc_check_digit(body17 + "0")


def compact(number: str) -> str:
    return re.sub(r"[\s\-]", "", str(number or "")).upper()


def parse_resident_id(number: str, *, today: date | None = None) -> ResidentId:
    number = compact(number)
    if len(number) != 18:
        raise InvalidIdentity("id_length", _("A resident ID number has 18 characters."))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdentity("id_format", _("A resident ID number is 17 digits and a digit or X."))
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdentity(
            "id_checksum", _("The check digit does not match; a digit was probably mistyped.")
        )
    try:
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise InvalidIdentity("id_birth_date", _("The birth date in the ID number is not a real date."))
    if birth > (today or date.today()) or birth.year < 1880:
        raise InvalidIdentity("id_birth_date", _("The birth date in the ID number is out of range."))
    try:
        ric.get_birth_place(number)
    except (stdnum_errors.ValidationError, KeyError):  # KeyError: a province code with no county part
        raise InvalidIdentity(
            "id_division", _("The division code in the ID number was not in use in the birth year.")
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, birth_date=birth, sex=sex, division_code=number[:6])


_PASSPORT = re.compile(r"^[A-Z0-9]{5,17}$")
_HKMO = re.compile(r"^[HMCT]?[0-9A-Z]{8,10}$")


def normalise_document(doc_type: str, number: str) -> str:
    """Validate and return the canonical form used for storage and the blind index."""
    if doc_type not in DOCUMENT_TYPES:
        raise InvalidIdentity("document_type", _("Unknown document type %(type)s.") % {"type": doc_type})
    value = compact(number)
    if not value:
        raise InvalidIdentity("document_missing", _("The document number is required."))
    if doc_type == RESIDENT_ID:
        return parse_resident_id(value).number
    if doc_type in (PASSPORT, FOREIGN_RESIDENCE, OTHER):
        if not _PASSPORT.match(value):
            raise InvalidIdentity("document_format", _("Use 5 to 17 letters and digits."))
        return value
    if not _HKMO.match(value):
        raise InvalidIdentity("document_format", _("A travel permit number has 8 to 11 letters and digits."))
    return value


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
_INTERNATIONAL = re.compile(r"^\+[1-9]\d{6,14}$")


def normalise_phone(phone: str) -> str:
    """Mainland mobiles as 11 digits, landlines as area code + number, others as E.164."""
    raw = str(phone or "").strip()
    if not raw:
        raise InvalidIdentity("phone_missing", _("The phone number is required."))
    value = re.sub(r"[\s\-()]", "", raw)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value
    if value.startswith("00"):
        value = "+" + value[2:]
    if _INTERNATIONAL.match(value):
        return value
    raise InvalidIdentity(
        "phone_format", _("Use an 11-digit mobile number, a landline with area code, or +country code.")
    )


def mask_document(number: str) -> str:
    """`3205**********1234`: enough to tell two people apart at a desk, not enough to misuse."""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 2) + number[-1:] if len(number) > 2 else "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[-4:]
    return phone[:3] + "*" * max(len(phone) - 7, 1) + phone[-4:]


def mask_name(name: str) -> str:
    """`李*新`, `王*`, `Z*******n`: the first and last character of the name (the family name of
    a two-character name), enough for a checkpoint to see the code is the holder's own."""
    value = "".join(str(name or "").split())
    if len(value) <= 1:
        return "*" * len(value)
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
