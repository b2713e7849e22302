from django.apps import AppConfig
from django.db.models.signals import post_save


class DeliveriesConfig(AppConfig):
    name = "integrations.deliveries"
    label = "deliveries"

    def ready(self) -> None:
        """A new connection's delivery queue is announced to running workers (queues.py)."""
        # Imported once the app registry is ready: queues reads the models.
        from integrations.deliveries import queues

        post_save.connect(
            queues.on_connection_saved,
            sender="connections.Connection",
            weak=False,
            dispatch_uid="deliveries.announce_queue",
        )
