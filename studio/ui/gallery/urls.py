from django.urls import path

from studio.ui.gallery import views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery, name="list"),
    path("<slug:template>/install/", views.install, name="install"),
]
