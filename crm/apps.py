from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The suppression list guards every outbound act of the outbox, whichever agent performs it.
        from agents.outbox import register_guard
        from crm.services.suppression import suppression_guard

        register_guard(suppression_guard)
