"""Codes stored in one app and shown on pages of several, in the page's language:
`{{ person.nationality|country }}`, `{{ issuer|issuer }}`."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def country(code):
    from epigrid.people.labels import country_label

    return country_label(code, get_language() or "zh-hans")


@register.filter
def issuer(code):
    from epigrid.healthcode.labels import issuer_label

    return issuer_label(code, get_language() or "zh-hans")


@register.filter
def division(prefix):
    """A division code or scope prefix (`32`, `320583`) as the division's name."""
    from epigrid.regions.models import Division

    found = Division.objects.filter(prefix=prefix).first() if prefix else None
    return found.name_for(get_language() or "zh-hans") if found is not None else prefix


@register.filter
def in_language(texts):
    """A text given in both languages (`{"zh-hans": …, "en": …}`, as packs give their titles)."""
    if not texts:
        return ""
    lang = "en" if (get_language() or "").startswith("en") else "zh-hans"
    return texts.get(lang) or texts.get("zh-hans") or ""
