from django.apps import AppConfig


class FlowTestsConfig(AppConfig):
    name = "integrations.flowtests"
    label = "flowtests"
