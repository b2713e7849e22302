from django.urls import include, path

from studio.ui.flows import step_panel, views

app_name = "flows"

urlpatterns = [
    path("", views.FlowsListView.as_view(), name="list"),
    path("<slug:key>/steps/<int:index>/", step_panel.step_panel, name="step-panel"),
    path("<slug:key>/test/", include("studio.ui.flows.test_urls")),
    path("<slug:key>/io/", include("studio.ui.flows.io_urls")),
]
