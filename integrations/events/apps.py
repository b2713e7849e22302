from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "integrations.events"
    label = "events"
