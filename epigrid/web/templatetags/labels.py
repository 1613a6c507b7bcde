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
