"""Flow testing pages (test panel, samples); included from studio/ui/flows/urls.py."""

from django.urls import path

from studio.ui.flows import samples_views, testpanel

urlpatterns: list = [
    path("", testpanel.test_panel, name="test"),
    path("samples/", samples_views.pin, name="sample-pin"),
    path("samples/<int:sample_id>/", samples_views.sample_edit, name="sample-edit"),
    path("samples/<int:sample_id>/delete/", samples_views.sample_delete, name="sample-delete"),
    path("regression/", samples_views.run_regression, name="regression"),
]
