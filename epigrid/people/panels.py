"""Sections that other apps add to the person page, so `people` (ground) never imports them.

An app registers a panel in its `AppConfig.ready()`:

    register_panel("measures", order=10, render=lambda request, person: (template, context))

`render` returns a template name and its context, or None to show nothing for this person.
Panels run after the page has checked scope: they get a person the user may see.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    render: Callable


_PANELS: dict[str, Panel] = {}


def register_panel(name: str, *, order: int, render: Callable) -> None:
    _PANELS[name] = Panel(name, order, render)


def panels_for(request, person) -> list[tuple[str, dict]]:
    return _rendered(_PANELS, request, person)


def _rendered(panels: dict[str, Panel], request, person) -> list[tuple[str, dict]]:
    """Each panel that has something to show, in order (a panel returns None when it has not)."""
    out = []
    for panel in sorted(panels.values(), key=lambda p: (p.order, p.name)):
        rendered = panel.render(request, person)
        if rendered is not None:
            out.append(rendered)
    return out


# The person's own status page (/me/<token>/) takes panels the same way; these must show only
# what the person may see about themselves, in their language, never staff notes or reporters.
_SELF_PANELS: dict[str, Panel] = {}


def register_self_panel(name: str, *, order: int, render: Callable) -> None:
    _SELF_PANELS[name] = Panel(name, order, render)


def self_panels_for(request, person) -> list[tuple[str, dict]]:
    return _rendered(_SELF_PANELS, request, person)
