from django.urls import path, re_path

from integrations.sandboxes.dynamics import views

urlpatterns = [
    path("<str:tenant>/oauth2/v2.0/token", views.token, name="dynamics-token"),
    path("api/data/v9.2/WhoAmI", views.who_am_i, name="dynamics-whoami"),
    re_path(r"^api/data/v9\.2/(?P<segment>[A-Za-z_]+(?:\(.*\))?)$", views.resource, name="dynamics-resource"),
]
