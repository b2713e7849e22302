from django.urls import path

from studio.ui.reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("run/", views.StartView.as_view(), name="start"),
    path("<int:pk>/", views.RunView.as_view(), name="run"),
    path("results/<int:pk>/resolve/", views.ResolveView.as_view(), name="resolve"),
]
