"""Clauses in words on pages: `{{ m.clauses|clauses }}` for the person (the document and the
article, its full title on hover), `{{ m.clauses|clauses_with_ids }}` for staff, who also need
the IDs the packs, tasks and reports cite."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language

from epigrid.rules.clause_words import clauses_words

register = template.Library()


def _lang() -> str:
    return "en" if (get_language() or "zh-hans").lower().startswith("en") else "zh-hans"


def _words(clauses, lang: str):
    joiner = ", " if lang == "en" else "、"
    separator = "; " if lang == "en" else "；"
    rows = []
    for name, title, articles in clauses_words(clauses or (), lang):
        text = name if not articles else f"{name}{', ' if lang == 'en' else ' '}{joiner.join(articles)}"
        rows.append((title or name, text))
    return format_html_join(separator, '<span class="clause" title="{}">{}</span>', rows)


@register.filter
def clauses(ids):
    """The clauses as the person reads them: 苏肺炎防控办〔2020〕79号 第十三条、第七条."""
    return _words(ids, _lang())


@register.filter
def clauses_with_ids(ids):
    """For staff: the words, then the IDs (JS79-13, JS79-7)."""
    ids = list(ids or ())
    if not ids:
        return ""
    return format_html('{} <span class="muted small">({})</span>', _words(ids, _lang()), ", ".join(ids))


@register.simple_tag
def clause_basis(*ids):
    """`{% clause_basis "XC-3.3" as basis %}`: staff wording for help texts that cite a clause."""
    return clauses_with_ids(ids)
