from django.urls import path

from studio.ui.flows import views

app_name = "flows"

urlpatterns = [
    path("", views.FlowsListView.as_view(), name="list"),
]
