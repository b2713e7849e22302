from django.urls import path

from studio.ui.exceptions import views

app_name = "exceptions"

urlpatterns = [
    path("", views.ExceptionsListView.as_view(), name="list"),
]
