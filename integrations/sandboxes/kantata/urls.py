"""Kantata paths below /sandbox/kantata/ (api.mavenlink.com; the `.json` suffix is optional)."""

from django.urls import path, re_path

from integrations.sandboxes.kantata import views
from integrations.sandboxes.kantata.reference_upsert import create_or_update

KEY = r"(?P<key>[a-z_]+)"

urlpatterns = [
    path("oauth/token", views.token, name="kantata-token"),
    re_path(r"^api/v1/external_references/create_or_update(?:\.json)?$", create_or_update, name="kantata-ref-upsert"),
    re_path(rf"^api/v1/{KEY}(?:\.json)?$", views.collection, name="kantata-collection"),
    re_path(rf"^api/v1/{KEY}/(?P<record_id>\d+)(?:\.json)?$", views.item, name="kantata-item"),
]
