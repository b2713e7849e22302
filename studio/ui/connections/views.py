"""Connections: a read-only list of the configured connections and their status."""

from django.views.generic import ListView

from integrations.connections.models import Connection
from studio.permissions import CapabilityRequiredMixin


class ConnectionListView(CapabilityRequiredMixin, ListView):
    capability = "view_studio"
    template_name = "connections/list.html"
    context_object_name = "connections"

    def get_queryset(self):
        # Credentials are never selected: this page has no reason to touch them.
        return Connection.objects.defer("credentials_encrypted").order_by("name")
