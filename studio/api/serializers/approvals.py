from rest_framework import serializers

from integrations.approvals.models import ApprovalTask


class ApprovalSerializer(serializers.ModelSerializer):
    flow = serializers.CharField(source="run.flow_version.flow.key", read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ApprovalTask
        fields = (
            "id",
            "run",
            "flow",
            "step_id",
            "group",
            "assignee",
            "title",
            "record",
            "status",
            "due_at",
            "on_expiry",
            "escalated_at",
            "policy",
            "approvals_so_far",
            "decided_by",
            "decided_at",
            "comment",
            "created_at",
        )
        read_only_fields = fields


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["approved", "rejected"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
