from django.urls import path

from studio.ui.connections import views

app_name = "connections"

urlpatterns = [
    path("", views.ConnectionListView.as_view(), name="list"),
]
