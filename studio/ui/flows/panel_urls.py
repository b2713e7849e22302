"""Sub-actions of the map, route and approve step panels, under /flows/<key>/steps/<index>/
(included from studio/ui/flows/urls.py; names join the `flows` namespace)."""

from django.urls import path

from studio.ui.flows.panels import approve, map, route

urlpatterns = [
    path("map/row/", map.row, name="map-row"),
    path("map/row/form/", map.row_form, name="map-row-form"),
    path("map/row/preview/", map.preview, name="map-row-preview"),
    path("map/row/save/", map.save, name="map-row-save"),
    path("map/row/remove/", map.remove, name="map-row-remove"),
    path("map/target/", map.set_target, name="map-target"),
    path("map/suggest/", map.suggest, name="map-suggest"),
    path("route/", route.edit, name="route-edit"),
    path("approve/", approve.edit, name="approve-edit"),
]
