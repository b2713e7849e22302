from django.db import models

from integrations.accounts.roles import CAPABILITIES


class Capability(models.Model):
    """Holds Switchboard's permissions; no table (the roles are Django groups)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [(code, desc) for code, (desc, _) in CAPABILITIES.items()]

    def __str__(self) -> str:
        return "capability"
