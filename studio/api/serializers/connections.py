"""Connections over the API: never a credential value, only which secrets are set."""

from dataclasses import asdict

from rest_framework import serializers

from integrations.connections.models import Connection
from integrations.connectors import registry
from integrations.connectors.errors import ConnectorError
from integrations.deliveries.queries import connection_health as health


class ConnectionSerializer(serializers.ModelSerializer):
    # Not a URL field: inbound-only kinds (webhook sources) have none, stored as "".
    base_url = serializers.CharField(read_only=True, help_text="The target's base URL; empty for inbound-only kinds.")
    status = serializers.SerializerMethodField()
    status_detail = serializers.SerializerMethodField()
    kind_label = serializers.SerializerMethodField()
    secrets_set = serializers.SerializerMethodField()
    circuit_held_until = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Deliveries held by the circuit breaker until then; null when closed.",
    )

    circuit_threshold = serializers.SerializerMethodField(
        help_text="Consecutive transient failures that open the circuit (0 = off); null = the global default."
    )
    circuit_cooldown_seconds = serializers.SerializerMethodField(
        help_text="Seconds held after the circuit opens, doubling per failed probe; null = the global default."
    )
    circuit_max_cooldown_seconds = serializers.SerializerMethodField(
        help_text="Cap on the doubled cooldown; null = the global default."
    )

    class Meta:
        model = Connection
        fields = (
            "name",
            "label",
            "kind",
            "kind_label",
            "environment",
            "base_url",
            "allowed_hosts",
            "rate_limit_requests",
            "rate_limit_interval_seconds",
            "max_concurrency",
            "max_attempts",
            "timezone",
            "paused",
            "circuit_threshold",
            "circuit_cooldown_seconds",
            "circuit_max_cooldown_seconds",
            "circuit_held_until",
            "status",
            "status_detail",
            "verified",
            "last_check_at",
            "last_check_ok",
            "last_check_latency_ms",
            "last_check_error",
            "secrets_set",
        )
        read_only_fields = fields

    def _health(self, obj):
        cache = self.context.setdefault("_health", {})
        if obj.pk not in cache:
            cache[obj.pk] = health(obj)
        return cache[obj.pk]

    def get_status(self, obj) -> str:
        return self._health(obj).status.value

    def get_status_detail(self, obj) -> str:
        return self._health(obj).detail

    # The per-connection overrides as stored (validated by the form), not the effective limits.
    def get_circuit_threshold(self, obj) -> int | None:
        return _override(obj, "circuit_threshold")

    def get_circuit_cooldown_seconds(self, obj) -> int | None:
        return _override(obj, "circuit_cooldown_seconds")

    def get_circuit_max_cooldown_seconds(self, obj) -> int | None:
        return _override(obj, "circuit_max_cooldown_seconds")

    def get_kind_label(self, obj) -> str:
        return registry.label_for(obj.kind)

    def get_secrets_set(self, obj) -> list[str]:
        return sorted(k for k, v in obj.get_credentials().items() if v) if obj.has_credentials else []


def _override(connection, key: str):
    config = connection.config if isinstance(connection.config, dict) else {}
    return config.get(key)


def describe_objects(objects) -> list[dict]:
    return [
        {
            "name": o.name,
            "label": o.label,
            "actions": list(o.actions),
            "external_id_fields": list(o.external_id_fields),
            "fields": [asdict(f) for f in o.fields],
        }
        for o in objects.values()
    ]


def connector_description(kind: str) -> dict:
    """What the step editor and forms need: fields, objects, actions — no secrets."""
    cls = registry.connector_class(kind)
    return {
        "kind": kind,
        "label": cls.label,
        "inbound_only": cls.inbound_only,
        "config_fields": [asdict(f) for f in cls.config_fields],
        "auth_fields": [asdict(f) | {"default": None} for f in cls.auth_fields],
        "objects": describe_objects(cls.objects),
    }


def connection_objects(connection) -> list[dict]:
    """The objects of one connection (generic connectors declare them per connection)."""
    try:
        connector = registry.get_connector(connection)
    except (registry.UnknownConnector, ImportError, ConnectorError):
        return []
    try:
        return describe_objects(connector.objects)
    finally:
        connector.close()


class ConnectorFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    label = serializers.CharField(allow_blank=True)
    help = serializers.CharField(allow_blank=True)
    default = serializers.JSONField(allow_null=True)
    choices = serializers.ListField(child=serializers.JSONField())


class ConnectorObjectSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    external_id_fields = serializers.ListField(child=serializers.CharField())
    fields = ConnectorFieldSerializer(many=True)


class ConnectorKindSerializer(serializers.Serializer):
    """The schema of `connector_description`."""

    kind = serializers.CharField()
    label = serializers.CharField()
    inbound_only = serializers.BooleanField()
    config_fields = ConnectorFieldSerializer(many=True)
    auth_fields = ConnectorFieldSerializer(many=True)
    objects = ConnectorObjectSerializer(many=True)


class MaintenanceWindowSerializer(serializers.Serializer):
    """The schema of `window_row` (studio/api/views/connections.py)."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    weekday = serializers.IntegerField(allow_null=True)
    start_time = serializers.CharField(allow_null=True)
    end_time = serializers.CharField(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    timezone = serializers.CharField()
    note = serializers.CharField(allow_blank=True)


class CheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.IntegerField()
    message = serializers.CharField()
    status = serializers.CharField()
