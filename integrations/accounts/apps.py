from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, using="default", **kwargs):
    from integrations.accounts.services import sync_roles

    sync_roles()


class AccountsConfig(AppConfig):
    name = "integrations.accounts"
    label = "accounts"

    def ready(self):
        # After auth's own post_migrate handler has created this app's permissions.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
