from django.apps import AppConfig
from django.conf import settings

from integrations.connections.hooks import flows_using
from integrations.flows import engine_api


class FlowsConfig(AppConfig):
    name = "integrations.flows"
    label = "flows"

    def ready(self) -> None:
        # Handlers that read models are imported once the app registry is ready.
        from integrations.flows import usage

        flows_using.connect(usage.flows_using)
        # The engine reads no settings: its template limits (SWITCHBOARD_TEMPLATE_*) are set here, once.
        engine_api.configure_template_limits(settings)
