from django.apps import AppConfig


class HealthcodeConfig(AppConfig):
    name = "epigrid.healthcode"
    label = "healthcode"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from epigrid.healthcode import panels, services
        from epigrid.people.panels import register_panel, register_self_panel
        from epigrid.rules.registry import register_decision_listener

        # every changed decision, with old and new colour, inside the reassessment's transaction
        register_decision_listener("healthcode", services.record_decisions)
        # the person page (staff) and the person's own status page (/me/<token>/)
        register_panel("healthcode", order=5, render=panels.person_panel)
        register_self_panel("healthcode", order=5, render=panels.self_panel)
