"""DRF token authentication that also notes when each token was last used (shown on the
users page, so an admin can tell a forgotten token from one a system relies on)."""

from rest_framework.authentication import TokenAuthentication

from integrations.accounts.tokens import note_use


class TrackedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        note_use(token.key)
        return user, token
