from django.urls import path

from studio.ui.exceptions import actions, bulk, views

app_name = "exceptions"


def list_or_bulk(request):
    """GET shows the queue; POST on it is a bulk action over its rows."""
    return bulk.bulk_start(request) if request.method == "POST" else views.exception_list(request)


urlpatterns = [
    path("", list_or_bulk, name="list"),
    path("<int:pk>/", views.exception_detail, name="detail"),
    path("<int:pk>/resubmit/", actions.exception_resubmit, name="resubmit"),
    *(path(f"<int:pk>/{name}/", view, name=name) for name, view in actions.VIEWS.items()),
    path("jobs/<int:job_id>/", bulk.bulk_job, name="job"),
]
