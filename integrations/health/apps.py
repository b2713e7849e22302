from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "integrations.health"
    label = "health"
