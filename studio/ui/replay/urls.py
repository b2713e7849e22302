from django.urls import path

from studio.ui.replay import views

app_name = "replay"

urlpatterns = [
    path("", views.ReplayView.as_view(), name="home"),
    path("preview/", views.PreviewView.as_view(), name="preview"),
    path("run/", views.RunView.as_view(), name="run"),
    path("progress/", views.ProgressView.as_view(), name="progress"),
]
