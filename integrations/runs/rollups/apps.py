from django.apps import AppConfig


class RollupsConfig(AppConfig):
    name = "integrations.runs.rollups"
    label = "run_rollups"
    verbose_name = "Run roll-ups"
