from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "integrations.audit"
    label = "audit"
