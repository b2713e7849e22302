from django.urls import path, re_path

from integrations.sandboxes.dynamics import views

urlpatterns = [
    path("<str:tenant>/oauth2/v2.0/token", views.token, name="dynamics-token"),
    path("api/data/v9.2/WhoAmI", views.who_am_i, name="dynamics-whoami"),
    path("api/data/v9.2/WinOpportunity", views.win_opportunity, name="dynamics-win-opportunity"),
    path("api/data/v9.2/$batch", views.batch_view, name="dynamics-batch"),
    re_path(
        r"^api/data/v9\.2/EntityDefinitions\(LogicalName='(?P<logical>\w+)'\)/Keys$",
        views.entity_keys,
        name="dynamics-entity-keys",
    ),
    re_path(r"^api/data/v9\.2/(?P<segment>[A-Za-z_]+(?:\(.*\))?)$", views.resource, name="dynamics-resource"),
]
