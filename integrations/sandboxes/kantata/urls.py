"""Kantata paths below /sandbox/kantata/ (api.mavenlink.com; the `.json` suffix is optional)."""

from django.urls import path, re_path

from integrations.sandboxes.kantata import members, views
from integrations.sandboxes.kantata.reference_upsert import create_or_update

KEY = r"(?P<key>[a-z_]+)"

urlpatterns = [
    path("oauth/token", views.token, name="kantata-token"),
    re_path(r"^api/v1/external_references/create_or_update(?:\.json)?$", create_or_update, name="kantata-ref-upsert"),
    # account invitations and memberships (members.py) before the generic resource routes
    re_path(r"^api/v1/account_invitations(?:\.json)?$", members.invitations, name="kantata-invitations"),
    re_path(r"^api/v1/account_invitations/(?P<record_id>\d+)(?:\.json)?$", members.invitation),
    re_path(r"^api/v1/account_memberships(?:\.json)?$", members.memberships, name="kantata-memberships"),
    re_path(r"^api/v1/account_memberships/(?P<record_id>\d+)(?:\.json)?$", members.membership),
    re_path(r"^api/v1/account_memberships/(?P<record_id>\d+)/disable(?:\.json)?$", members.disable),
    re_path(r"^api/v1/account_memberships/(?P<record_id>\d+)/enable(?:\.json)?$", members.enable),
    re_path(r"^api/v1/users(?:\.json)?$", members.users, name="kantata-users"),
    re_path(r"^api/v1/users/(?P<record_id>\d+)(?:\.json)?$", members.user),
    re_path(rf"^api/v1/{KEY}(?:\.json)?$", views.collection, name="kantata-collection"),
    re_path(rf"^api/v1/{KEY}/(?P<record_id>\d+)(?:\.json)?$", views.item, name="kantata-item"),
]
