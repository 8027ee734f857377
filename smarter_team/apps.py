from django.apps import AppConfig


class SmarterTeamConfig(AppConfig):
    name = "smarter_team"
    verbose_name = "Smarter Team"
