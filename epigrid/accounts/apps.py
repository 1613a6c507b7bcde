from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "epigrid.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from epigrid.accounts import signals  # noqa: F401  (connects the audit receivers)
