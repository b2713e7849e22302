from django.urls import path, re_path

from studio.ui.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.AuditListView.as_view(), name="list"),
    path("<int:pk>/", views.AuditDetailView.as_view(), name="detail"),
    re_path(r"^export\.(?P<fmt>csv|json)$", views.AuditExportView.as_view(), name="export"),
]
