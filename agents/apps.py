from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Like admin.autodiscover(): every installed app's `agents` module registers its agents.
        from agents import checks, registry  # noqa: F401 - importing registers the system checks

        registry.autodiscover()
