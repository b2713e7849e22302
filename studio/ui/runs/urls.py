from django.urls import path

from studio.ui.runs import views

app_name = "runs"

urlpatterns = [
    path("", views.RunsListView.as_view(), name="list"),
]
