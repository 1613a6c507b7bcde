from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "epigrid.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import signals

        from epigrid.lib import collector

        # no gc.freeze inside a request (lib.collector)
        signals.request_started.connect(collector.request_started, dispatch_uid="collector.request_started")
        signals.request_finished.connect(
            collector.request_finished, dispatch_uid="collector.request_finished"
        )
