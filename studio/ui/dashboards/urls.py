from django.urls import path

from studio.ui.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.DashboardsHomeView.as_view(), name="home"),
    path("panels/<slug:name>/", views.PanelView.as_view(), name="panel"),
]
