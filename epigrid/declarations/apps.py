import inspect

from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "epigrid.declarations"
    label = "declarations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from epigrid.declarations import facts, panels
        from epigrid.people.panels import register_panel, register_self_panel
        from epigrid.rules.registry import register_facts_source

        # `touching` lets a risk-area change reassess only the people whose travel it concerns
        takes_touching = "touching" in inspect.signature(register_facts_source).parameters
        for name, source, touching in (
            ("declarations", facts.declaration_facts, facts.declaration_touching),
            ("pushed_lists", facts.pushed_list_facts, facts.pushed_list_touching),
        ):
            if takes_touching:
                register_facts_source(name, source, touching=touching)
            else:
                register_facts_source(name, source)
        register_panel("declarations", order=30, render=panels.person_panel)
        register_self_panel("declarations", order=30, render=panels.self_panel)
        self._register_task_sources()

    @staticmethod
    def _register_task_sources():
        """Tell the tasks pages where the work behind our tasks is done: a check on the ground
        is recorded on its own page (so the pushed row, tip or declaration follows), not in
        "My tasks"."""
        try:
            from epigrid.tasks.registry import register_source
        except ImportError:  # an older tasks app without the registry
            return
        from django.urls import reverse
        from django.utils.translation import gettext_lazy as _

        register_source(
            "verification",
            link=lambda task: reverse("declarations:verify", args=[task.source_id]),
            complete_here=False,
            label=_("Check on the ground"),
            action=_(
                "Go to the address, find out whether the person is there, and record what you found "
                "on the check's page: the list, tip or declaration behind it follows."
            ),
            action_label=_("Record the check"),
        )
        for source in ("declaration", "declaration_expected"):
            register_source(
                source,
                link=lambda task: reverse("declarations:detail", args=[task.source_id]),
                complete_here=True,
                label=_("Declaration"),
            )
