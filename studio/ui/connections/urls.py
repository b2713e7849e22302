from django.urls import path

from studio.ui.connections import sandbox, views

app_name = "connections"

urlpatterns = [
    path("", views.connection_list, name="list"),
    path("new/", views.connection_create, name="new"),
    path("<slug:name>/", views.connection_detail, name="detail"),
    path("<slug:name>/edit/", views.connection_edit, name="edit"),
    path("<slug:name>/delete/", views.connection_delete, name="delete"),
    path("<slug:name>/test/", views.connection_test, name="test"),
    path("<slug:name>/pause/", views.connection_pause, name="pause"),
    path("<slug:name>/close-circuit/", views.connection_close_circuit, name="close_circuit"),
    path("<slug:name>/sandbox/faults/", sandbox.inject_fault, name="sandbox_fault"),
    path("<slug:name>/sandbox/reset/", sandbox.reset, name="sandbox_reset"),
    path("<slug:name>/windows/", views.window_add, name="window_add"),
    path("<slug:name>/windows/<int:window_id>/delete/", views.window_delete, name="window_delete"),
]
