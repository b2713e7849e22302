from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "integrations.demo"
    label = "demo"
