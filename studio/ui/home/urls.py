from django.urls import path

from studio.ui.home import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
]
