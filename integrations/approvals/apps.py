from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "integrations.approvals"
    label = "approvals"
