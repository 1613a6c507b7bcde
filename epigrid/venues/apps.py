from django.apps import AppConfig


class VenuesConfig(AppConfig):
    name = "epigrid.venues"
    label = "venues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from epigrid.people.panels import register_panel, register_self_panel
        from epigrid.venues import facts
        from epigrid.venues.services.checkpoint_follow_up import register_task_source
        from epigrid.venues.web import trace

        facts.register()
        register_task_source()
        # 查轨迹 on the staff person page and on the person's own status page
        register_panel("trajectory", order=40, render=trace.person_panel)
        register_self_panel("trajectory", order=40, render=trace.self_panel)
