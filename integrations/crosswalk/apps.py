from django.apps import AppConfig


class CrosswalkConfig(AppConfig):
    name = "integrations.crosswalk"
    label = "crosswalk"
