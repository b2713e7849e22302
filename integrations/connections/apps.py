from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "integrations.connections"
    label = "connections"
