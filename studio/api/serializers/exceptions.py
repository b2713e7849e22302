from rest_framework import serializers

from integrations.runs.models import BulkJob, ExceptionComment, RunException
from integrations.runs.queries import EXCEPTION_FILTERS
from studio.api.serializers.fields import object_id


class ExceptionCommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ExceptionComment
        fields = ("id", "author", "body", "created_at")
        read_only_fields = fields


class ExceptionSerializer(serializers.ModelSerializer):
    flow = serializers.CharField(source="flow.key", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = RunException
        fields = (
            "id",
            "run",
            "flow",
            "step_id",
            "status",
            "classification",
            "kind",
            "message",
            "field",
            "item",
            "business_key",
            "delivery_id",
            "assignee",
            "tags",
            "resolution_reason",
            "first_seen",
            "last_seen",
            "duplicate_count",
        )
        read_only_fields = fields


class ExceptionDetailSerializer(ExceptionSerializer):
    comments = ExceptionCommentSerializer(many=True, read_only=True)
    current_input = serializers.JSONField(read_only=True)

    class Meta(ExceptionSerializer.Meta):
        fields = (*ExceptionSerializer.Meta.fields, "original_input", "input_revisions", "current_input", "comments")
        read_only_fields = fields


class RetrySerializer(serializers.Serializer):
    from_step = serializers.ChoiceField(choices=["failed", "start"], default="failed")
    version = serializers.ChoiceField(choices=["ran", "current"], default="ran")


class ResubmitSerializer(serializers.Serializer):
    input = serializers.DictField(help_text="The failed step's input, edited.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ResolveSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(allow_null=True, allow_blank=True, max_length=150)


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class TagSerializer(serializers.Serializer):
    add = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    remove = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)


class ExceptionFilterSerializer(serializers.Serializer):
    status = serializers.CharField(required=False)
    flow = serializers.SlugField(required=False)
    step_id = serializers.CharField(required=False)
    classification = serializers.CharField(required=False)
    business_key = serializers.CharField(required=False)
    assignee = serializers.CharField(required=False)
    tag = serializers.CharField(required=False)
    signature = serializers.CharField(required=False)
    ids = serializers.ListField(child=object_id(), required=False)
    q = serializers.CharField(required=False)

    def to_internal_value(self, data):
        unknown = set(data) - set(EXCEPTION_FILTERS) if isinstance(data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: ["unknown filter"] for name in sorted(unknown)})
        return super().to_internal_value(data)


class BulkSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["retry", "skip", "resolve", "assign", "tag"])
    filter = ExceptionFilterSerializer()
    params = serializers.DictField(required=False, default=dict)

    def validate_filter(self, value):
        if not value:
            raise serializers.ValidationError("give at least one filter (use status=open for every open exception)")
        return value


class BulkJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = BulkJob
        fields = (
            "id",
            "action",
            "filters",
            "status",
            "total",
            "processed",
            "succeeded",
            "failed",
            "errors",
            "created_at",
            "finished_at",
        )
        read_only_fields = fields
