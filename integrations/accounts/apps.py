from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "integrations.accounts"
    label = "accounts"
