from django.urls import path

from studio.ui.approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.ApprovalsInboxView.as_view(), name="inbox"),
]
