"""What the tasks pages know about where a task comes from, told by the app that opens it.

    register_source("verification", link=lambda task: reverse(...), complete_here=False)

`link(task)` gives the page where the work is done (shown on the task), `complete_here` says
whether "My tasks" may complete it directly; `action` says what to do there and `action_label`
names the button that leads to it, for a task completed elsewhere. Tasks of a source nobody
registered are shown with their texts only and completed on the page of what they are about.
Registration happens in the app's `AppConfig.ready()`; `tasks` never imports the apps above it.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskSource:
    name: str
    link: Callable | None = None
    complete_here: bool = False
    label: str = ""
    action: str = ""
    action_label: str = ""


_SOURCES: dict[str, TaskSource] = {}


def register_source(
    name: str,
    *,
    link: Callable | None = None,
    complete_here: bool = False,
    label: str = "",
    action: str = "",
    action_label: str = "",
) -> None:
    _SOURCES[name] = TaskSource(name, link, complete_here, label, action, action_label)


def source_of(name: str) -> TaskSource:
    return _SOURCES.get(name) or TaskSource(name)


def link_of(task) -> str:
    source = source_of(task.source_type)
    if source.link is None:
        return ""
    try:
        return source.link(task) or ""
    except Exception:  # a broken link must not break the list of someone's work
        return ""
