"""Reconciliation: scheduled comparisons of one canonical object across systems. The app
also holds the runtime's side of ownership conflicts and crosswalk auto-links, since it
sits above both the crosswalk and the runs (docs/PS_MODEL.md)."""

from django.apps import AppConfig

from integrations.crosswalk.hooks import ownership_conflict
from integrations.deliveries.hooks import deliveries_succeeded, delivery_finished


class ReconcileConfig(AppConfig):
    name = "integrations.reconcile"
    label = "reconcile"

    def ready(self) -> None:
        # lazy: the handlers read models, which exist once the app registry is ready
        from integrations.reconcile import autolink, conflicts

        ownership_conflict.connect(conflicts.on_ownership_conflict)
        delivery_finished.connect(autolink.on_delivery_finished)
        deliveries_succeeded.connect(autolink.on_deliveries_succeeded)
