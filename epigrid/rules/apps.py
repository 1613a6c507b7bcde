from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "epigrid.rules"
    label = "rules"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.urls import reverse

        from epigrid.rules import panels
        from epigrid.tasks.registry import register_source

        panels.register()
        # a measure's task: the grid worker follows the person up and completes it in My tasks;
        # the person page shows why (the measure, its reason and clause)
        register_source(
            "measure",
            link=lambda task: reverse("people:detail", args=[task.person_id]) if task.person_id else "",
            complete_here=True,
        )
