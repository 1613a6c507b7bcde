"""The person page panel (staff) and the person's own panel (/me/<token>/): each open measure
with its reason and clause — requirement IDs, rule id, pack and version — due and end times in
China time, the health-code colour with what clears it, and for staff the decision history
(issue item 7, R3.3). Registered in `RulesConfig.ready()`."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from epigrid.accounts.roles import Perm
from epigrid.rules.explanations import explain_person, lang_of

WRAPPER = "rules/_panel.html"


def _render(template: str, context: dict, lang: str) -> str:
    # the panel speaks one language throughout: its labels and the rules' texts
    with translation.override(lang):
        return render_to_string(template, context)


def person_panel(request, person):
    """For staff on the person page, in the page's language."""
    lang = lang_of(translation.get_language())
    explanation = explain_person(person, lang, with_history=True)
    can_see_colour = request.user.has_epigrid_perm(Perm.HEALTHCODE_VIEW)
    html = _render(
        "rules/panel_person.html",
        {"x": explanation, "person": person, "show_colour": can_see_colour},
        lang,
    )
    return WRAPPER, {"html": mark_safe(html)}  # noqa: S308 - rendered by our own template


def self_language(request, person) -> str:
    """The language the person chose with their link, unless they switched the page."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return lang_of(translation.get_language())
    return lang_of(getattr(person, "link_language", None) or translation.get_language())


def self_panel(request, person):
    """For the person on their own page: what they must do, why, until when. No staff notes,
    no history of others' work, nothing but their own measures and colour."""
    explanation = explain_person(person, self_language(request, person))
    if not explanation.assessed:
        return None
    html = _render("rules/panel_self.html", {"x": explanation}, explanation.language)
    return WRAPPER, {"html": mark_safe(html)}  # noqa: S308 - rendered by our own template


def register() -> None:
    from epigrid.people.panels import register_panel, register_self_panel

    register_panel("rules", order=10, render=person_panel)
    register_self_panel("rules", order=10, render=self_panel)
