from django.apps import AppConfig


class VenuesConfig(AppConfig):
    name = "epigrid.venues"
    label = "venues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from epigrid.venues import facts

        facts.register()

        from epigrid.venues.services.checkpoint_follow_up import register_task_source

        register_task_source()
