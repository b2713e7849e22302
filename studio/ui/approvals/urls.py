from django.urls import path

from studio.ui.approvals import views

app_name = "approvals"


def inbox_or_bulk(request):
    """GET shows the inbox; POST on it approves several tasks of one step."""
    return views.bulk_approve(request) if request.method == "POST" else views.inbox(request)


urlpatterns = [
    path("", inbox_or_bulk, name="inbox"),
    path("count/", views.badge, name="count"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("<int:pk>/reassign/", views.reassign, name="reassign"),
]
