"""Dates in an EU DCC as member states write them.

The specification wants complete dates (`YYYY-MM-DD`) for the date of vaccination and the
recovery dates, a date of birth of `YYYY-MM-DD`, `YYYY-MM` or `YYYY` (or empty when unknown),
and RFC 3339 date-times for the test's sample and result times. Several states write a
date-time where a date is wanted (BG `1978-01-26T00:00:00`, SG `2022-01-01T00:00:00.000Z`).
JSON Schema 2020-12 treats `format` as an annotation, so the published schema lets them
through, and the EU's reference verifiers were changed to accept them: refusing them refuses
real travellers.

So a date is read from the date part of a date-time as written: the issuer's calendar day,
never moved by the offset (someone born on `1990-01-15T00:00:00+08:00` was born on the 15th,
whatever day it was in UTC). The time that follows must still be a time of day, with or
without a zone, or the whole value is garbage. A date-time field proper (`sc`, `dr`) keeps
its time and needs its zone: without one, the instant is hours off.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

# ASCII digits only, matched whole; T and Z may be lower case (RFC 3339 5.6)
_DATE_TIME = re.compile(
    r"(?P<date>(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2}))"
    r"(?:[Tt](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<zone>[Zz]|[+-](?P<zone_hour>[0-9]{2}):?(?P<zone_minute>[0-9]{2}))?)?"
)
_PARTIAL_BIRTH_DATE = re.compile(r"(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2}))?")


class NotADate(ValueError):
    """The text is not a date (or date-time) of the form the field wants; says why."""


def read_date(text: str) -> date:
    """A complete date: `YYYY-MM-DD`, or the date part of a date-time whose time is sound."""
    match = _match(text, "date")
    _time_of(match, text, "date")
    return _day(match, text, "date")


def read_date_time(text: str) -> datetime:
    """An RFC 3339 date-time with its zone, as an aware datetime (fractions past microseconds
    are cut, not rounded: the sixth digit is already finer than any sample time)."""
    match = _match(text, "date-time")
    day = _day(match, text, "date-time")
    moment = _time_of(match, text, "date-time")
    if moment is None:
        raise NotADate(f"{text!r} is not a date-time: it has no time")
    time_of_day, zone = moment
    if zone is None:
        raise NotADate(f"{text!r} is not a date-time: it has no time zone (Z or an offset)")
    return datetime.combine(day, time_of_day, tzinfo=zone)


def read_birth_date(text: str) -> str:
    """The date of birth as written, in the specification's forms: `YYYY-MM-DD`, `YYYY-MM`,
    `YYYY` or empty; a date-time gives its date part. Years 1900-2099, as the specification
    restricts them; the month and day must exist."""
    if text == "":
        return ""
    partial = _PARTIAL_BIRTH_DATE.fullmatch(text) if isinstance(text, str) else None
    if partial:
        year, month = int(partial["year"]), partial["month"]
        if month is not None and not 1 <= int(month) <= 12:
            raise NotADate(f"{text!r} is not a date of birth: there is no month {month}")
        written = text
    else:
        match = _match(text, "date of birth")
        _time_of(match, text, "date of birth")
        year = _day(match, text, "date of birth").year
        written = match["date"]
    if not 1900 <= year <= 2099:
        raise NotADate(f"{text!r} is not a date of birth: the year is outside 1900-2099")
    return written


def _match(text: object, what: str) -> re.Match:
    match = _DATE_TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise NotADate(f"{text!r} is not a {what}")
    return match


def _day(match: re.Match, text: str, what: str) -> date:
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError as exc:
        raise NotADate(f"{text!r} is not a {what}: {exc}") from None


def _time_of(match: re.Match, text: str, what: str) -> tuple[time, timezone | None] | None:
    """(time of day, zone or None) when the text carries a time, else None; NotADate when the
    time or the zone cannot be."""
    if match["hour"] is None:
        return None
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"])
    if hour > 23 or minute > 59 or second > 59:
        clock = f"{match['hour']}:{match['minute']}:{match['second']}"
        raise NotADate(f"{text!r} is not a {what}: {clock} is no time of day")
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    zone = None
    if match["zone"] in ("Z", "z"):
        zone = UTC
    elif match["zone"]:
        zone_hour, zone_minute = int(match["zone_hour"]), int(match["zone_minute"])
        if zone_hour > 23 or zone_minute > 59:
            raise NotADate(f"{text!r} is not a {what}: {match['zone']} is no offset")
        offset = timedelta(hours=zone_hour, minutes=zone_minute)
        zone = timezone(-offset if match["zone"].startswith("-") else offset)
    return time(hour, minute, second, micro), zone
