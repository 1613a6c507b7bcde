from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "epigrid.testing"
    label = "testing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from epigrid.testing import facts, panels

        facts.register()
        panels.register()
