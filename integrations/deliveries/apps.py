from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    name = "integrations.deliveries"
    label = "deliveries"
