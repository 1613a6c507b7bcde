from django.apps import AppConfig


class VenuesConfig(AppConfig):
    name = "epigrid.venues"
    label = "venues"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from epigrid.venues import facts

        facts.register()
