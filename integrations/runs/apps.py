from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "integrations.runs"
    label = "runs"
