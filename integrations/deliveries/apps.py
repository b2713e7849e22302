from django.apps import AppConfig


class DeliveriesConfig(AppConfig):
    name = "integrations.deliveries"
    label = "deliveries"

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_save

        from integrations.connections.models import Connection
        from integrations.deliveries import queues

        def on_created(sender, instance, created, raw=False, **kwargs):
            if created and not raw:
                transaction.on_commit(lambda: queues.announce([instance.pk]))

        post_save.connect(on_created, sender=Connection, weak=False, dispatch_uid="deliveries.announce_queue")
