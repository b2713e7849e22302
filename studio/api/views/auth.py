"""`/api/v1/me/`: who the caller is, their roles and capabilities; PATCH edits their profile."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.accounts.roles import CAPABILITIES, ROLES
from integrations.audit import services as audit
from studio.permissions import can

PROFILE_FIELDS = ("first_name", "last_name", "email")


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    capabilities = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ("username", *PROFILE_FIELDS, "roles", "capabilities")
        read_only_fields = ("username",)

    def get_roles(self, user) -> list[str]:
        return [g.name for g in user.groups.all() if g.name in ROLES]

    def get_capabilities(self, user) -> list[str]:
        return [code for code in CAPABILITIES if can(user, code)]


class MeView(APIView):
    """Any authenticated caller may read and edit their own profile."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request):
        user = request.user
        before = {name: getattr(user, name) for name in PROFILE_FIELDS}
        serializer = MeSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        after = {name: getattr(user, name) for name in PROFILE_FIELDS}
        if before != after:
            audit.record(user, "user.update_profile", user, before=before, after=after)
        return Response(serializer.data)
