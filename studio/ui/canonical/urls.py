from django.urls import path

from studio.ui.canonical import views

app_name = "canonical"

urlpatterns = [
    path("", views.CanonicalListView.as_view(), name="list"),
]
