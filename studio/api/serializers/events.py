from rest_framework import serializers

from integrations.events.models import Event
from studio.api.serializers.fields import object_id


class EventSerializer(serializers.ModelSerializer):
    connection = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)

    class Meta:
        model = Event
        fields = ("id", "connection", "source", "type", "external_id", "business_key", "payload", "received_at")
        read_only_fields = fields


class EventCreateSerializer(serializers.Serializer):
    connection = serializers.SlugField(max_length=64, help_text="Name of the connection the event comes from.")
    type = serializers.CharField(max_length=120)
    external_id = serializers.CharField(max_length=255, help_text="The sender's id of the event: the dedupe key.")
    business_key = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    payload = serializers.DictField()

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := set(data) - set(self.fields)):
            raise serializers.ValidationError({name: ["unknown field"] for name in sorted(unknown)})
        return super().to_internal_value(data)


class IngestResultSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    runs = serializers.ListField(child=serializers.IntegerField())
    duplicate = serializers.BooleanField()


class ReplaySerializer(serializers.Serializer):
    ids = serializers.ListField(child=object_id(), required=False)
    received_from = serializers.DateTimeField(required=False)
    received_to = serializers.DateTimeField(required=False)
    source = serializers.CharField(required=False)
    type = serializers.CharField(required=False)
    business_key = serializers.CharField(required=False)
    flow = serializers.SlugField(
        required=False, help_text="Replay through this flow only (its current published version)."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Only show what would be written, against what the ledger holds; start nothing."
    )

    def validate(self, data):
        if not any(
            data.get(k) for k in ("ids", "received_from", "received_to", "source", "type", "business_key", "flow")
        ):
            raise serializers.ValidationError(
                {"ids": ["choose the events: ids, a time range, a source, a type, a business key or a flow"]}
            )
        if data.get("received_from") and data.get("received_to") and data["received_from"] > data["received_to"]:
            raise serializers.ValidationError({"received_to": ["must be after received_from"]})
        return data


class DeliveryPreviewSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The idempotency key of the delivery the replay would request.")
    connection = serializers.CharField()
    object = serializers.CharField()
    payload = serializers.JSONField()
    ledger = serializers.CharField(allow_null=True, help_text="The ledger's state for the key; null: never sent.")
    would_post = serializers.BooleanField()
    changes = serializers.DictField(help_text="What the new version would send differently from what was posted.")


class ReplayPreviewSerializer(serializers.Serializer):
    """One row of a dry-run replay (integrations/runs/preview.py): an event through one flow."""

    event = serializers.IntegerField()
    flow = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    records = serializers.IntegerField(required=False, help_text="Batch flows: records in the page.")
    groups = serializers.IntegerField(required=False, help_text="Batch flows: groups the page makes.")
    deliveries = DeliveryPreviewSerializer(many=True)
