from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "integrations.flows"
    label = "flows"
