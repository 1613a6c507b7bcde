from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "epigrid.tasks"
    label = "tasks"
    default_auto_field = "django.db.models.BigAutoField"
