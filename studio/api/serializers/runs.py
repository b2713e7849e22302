from rest_framework import serializers

from integrations.runs.models import Run, StepRun


class StepRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = StepRun
        fields = (
            "step_id",
            "type",
            "status",
            "input",
            "output",
            "error",
            "detail",
            "duration_ms",
            "attempt",
            "started_at",
        )
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    flow = serializers.CharField(source="flow_version.flow.key", read_only=True)
    version = serializers.IntegerField(
        source="flow_version.number", read_only=True, allow_null=True, help_text="null for a test run of the draft"
    )

    class Meta:
        model = Run
        fields = (
            "id",
            "flow",
            "version",
            "event",
            "sequence",
            "trigger",
            "status",
            "business_key",
            "error",
            "retry_of",
            "is_test",
            "chunked",
            "item",
            "attempts",
            "worker_losses",
            "next_attempt_at",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    steps = StepRunSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = (*RunSerializer.Meta.fields, "input", "output", "start_at", "steps")
        read_only_fields = fields
