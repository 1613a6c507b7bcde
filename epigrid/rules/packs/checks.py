"""Checkers for the values a pack author writes (numbers, flags, words from a list, texts in both
languages, dates, events); each names where the value is when it refuses it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from ..conditions import EVENTS, TEST_FAMILIES, ConditionError, checked_choices
from ..conditions.node import gettext as _

LANGUAGES = ("zh-hans", "en")


def positive_int(where, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConditionError(
            _("%(where)s must be a whole number ≥ 1, got %(value)r") % {"where": where, "value": value}
        )
    return value


def boolean(where, value):
    if not isinstance(value, bool):
        raise ConditionError(
            _("%(where)s must be true or false, got %(value)r") % {"where": where, "value": value}
        )
    return value


def one_of(allowed):
    def check(where, value):
        if value not in allowed:
            raise ConditionError(
                _("%(where)s must be one of %(allowed)s, got %(value)r")
                % {"where": where, "allowed": sorted(allowed), "value": value}
            )
        return value

    return check


def lab_test_kinds(where, value):
    return list(checked_choices(where, value, TEST_FAMILIES))


def texts(where: str, value) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConditionError(_("%(where)s must give the text in zh-hans and en") % {"where": where})
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ConditionError(
            _("%(where)s: unknown language(s) %(unknown)s; use %(languages)s")
            % {"where": where, "unknown": sorted(unknown), "languages": list(LANGUAGES)}
        )
    for lang in LANGUAGES:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise ConditionError(_("%(where)s: missing %(lang)s text") % {"where": where, "lang": lang})
    return {lang: value[lang].strip() for lang in LANGUAGES}


def day(where: str, value) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConditionError(
        _("%(where)s must be a date like 2020-04-01, got %(value)r") % {"where": where, "value": value}
    )


def events(where: str, value) -> tuple[str, ...]:
    return checked_choices(where, value, EVENTS)
