from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    name = "integrations.reconcile"
    label = "reconcile"
