from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.flows.models import Flow, FlowVersion, PublishRequest
from integrations.triggers import backlog


class FlowVersionSerializer(serializers.ModelSerializer):
    published_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = FlowVersion
        fields = (
            "id",
            "state",
            "number",
            "definition",
            "content_hash",
            "notes",
            "created_at",
            "updated_at",
            "published_by",
            "published_at",
        )
        read_only_fields = fields


class FlowSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    live_version = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = (
            "id",
            "key",
            "name",
            "description",
            "owner",
            "status",
            "tags",
            "invoke_delivers_inline",
            "live_version",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("id", "owner", "status", "live_version", "created_at", "updated_at")

    def get_live_version(self, flow) -> int | None:
        live = flow.live_version
        return live.number if live else None

    def validate_tags(self, value):
        if not isinstance(value, list) or not all(isinstance(t, str) and 0 < len(t) <= 40 for t in value):
            raise serializers.ValidationError("a list of tags, each 1–40 characters")
        return value


class BacklogSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Runs waiting for a worker.")
    in_progress = serializers.IntegerField(help_text="Runs running or waiting for their deliveries or chunks.")


class FlowDetailSerializer(FlowSerializer):
    """One flow, with its backlog (integrations/triggers/backlog.py): a poll feeds a flow only
    while its backlog is below SWITCHBOARD_POLL_BACKLOG."""

    backlog = serializers.SerializerMethodField()

    class Meta(FlowSerializer.Meta):
        fields = (*FlowSerializer.Meta.fields, "backlog")

    @extend_schema_field(BacklogSerializer)
    def get_backlog(self, flow) -> dict:
        return backlog.by_flow([flow.pk]).get(flow.pk, {"queued": 0, "in_progress": 0})


class FlowUpdateSerializer(FlowSerializer):
    class Meta(FlowSerializer.Meta):
        read_only_fields = (*FlowSerializer.Meta.read_only_fields, "key")


class FlowCreateSerializer(FlowSerializer):
    definition = serializers.JSONField(required=False, write_only=True)

    class Meta(FlowSerializer.Meta):
        fields = (*FlowSerializer.Meta.fields, "definition")


class DraftSerializer(serializers.Serializer):
    definition = serializers.JSONField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    allow_errors = serializers.BooleanField(default=False, help_text="Save a definition that still has errors.")


class ValidateSerializer(serializers.Serializer):
    definition = serializers.JSONField(required=False, help_text="Defaults to the saved draft.")


class DefinitionErrorSerializer(serializers.Serializer):
    step_id = serializers.CharField(allow_null=True)
    field = serializers.CharField()
    message = serializers.CharField()


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = DefinitionErrorSerializer(many=True)


class PublishSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class RecordSerializer(serializers.Serializer):
    record = serializers.DictField(help_text="The record (JSON object) to run the flow on.")


class TestRunSerializer(RecordSerializer):
    version = serializers.CharField(default="draft", help_text="'draft' or a published version number.")


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["active", "paused"])


class ScheduleSerializer(serializers.Serializer):
    cron = serializers.CharField(max_length=100, help_text="Five cron fields, UTC.")


class PublishRequestSerializer(serializers.ModelSerializer):
    """A four-eyes publish waiting for (or decided by) a second person."""

    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # null until a second person decides; a method field so the schema says so (nullable)
    decided_by = serializers.SerializerMethodField()
    version = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = PublishRequest
        fields = (
            "id",
            "state",
            "notes",
            "override_reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "comment",
            "version",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decided_by(self, obj: PublishRequest) -> str | None:
        return obj.decided_by.username if obj.decided_by_id else None


class DecisionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
