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


class TokenUse(models.Model):
    """When an API token (DRF's authtoken, one per user) was last used. Kept beside the token,
    not on it, because that model is a third-party one; deleted with the token."""

    token = models.OneToOneField("authtoken.Token", primary_key=True, on_delete=models.CASCADE, related_name="use")
    last_used_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token {self.token_id[:8]}… last used {self.last_used_at:%Y-%m-%d %H:%M}"
