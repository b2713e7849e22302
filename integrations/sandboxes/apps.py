from django.apps import AppConfig


class SandboxesConfig(AppConfig):
    name = "integrations.sandboxes"
    label = "sandboxes"
