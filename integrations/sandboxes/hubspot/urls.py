"""HubSpot paths below /sandbox/hubspot/ (the sandbox's api.hubapi.com)."""

from django.urls import path

from integrations.sandboxes.hubspot import views

urlpatterns = [
    path("oauth/v1/token", views.token, name="hubspot-token"),
    path("crm/v3/objects/<str:object_name>", views.collection, name="hubspot-objects"),
    path("crm/v3/objects/<str:object_name>/search", views.search_view, name="hubspot-search"),
    path("crm/v3/objects/<str:object_name>/batch/upsert", views.batch_upsert, name="hubspot-batch-upsert"),
    path("crm/v3/objects/<str:object_name>/<str:object_id>", views.item, name="hubspot-object"),
]
