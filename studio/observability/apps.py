from django.apps import AppConfig

from studio.observability import tracing


class ObservabilityConfig(AppConfig):
    """/metrics and tracing. Tracing is set up here, at start-up of every process that loads
    Django (web, workers, beat, management commands), before any span is started."""

    name = "studio.observability"
    label = "observability"

    def ready(self) -> None:
        tracing.configure()
