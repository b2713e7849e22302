from django.urls import path

from studio.ui.canonical import views

app_name = "canonical"

urlpatterns = [
    path("", views.canonical_list, name="list"),
    path("<slug:name>/", views.canonical_object, name="object"),
]
