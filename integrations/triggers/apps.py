from django.apps import AppConfig

from integrations.flows.hooks import status_changed, version_published


class TriggersConfig(AppConfig):
    """Poll, schedule and manual triggers that create runs (code only: the models they use,
    such as the poll watermark, stay with flows)."""

    name = "integrations.triggers"
    label = "triggers"

    def ready(self) -> None:
        # Handlers that read models are imported once the app registry is ready.
        from integrations.triggers import schedules

        version_published.connect(schedules.on_flow_changed)
        status_changed.connect(schedules.on_flow_changed)
