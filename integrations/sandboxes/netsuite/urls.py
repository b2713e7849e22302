from django.urls import path

from integrations.sandboxes.netsuite import auth, views

urlpatterns = [
    path("services/rest/auth/oauth2/v1/token", auth.token, name="netsuite-token"),
    path("services/rest/record/v1/metadata-catalog", views.metadata_catalog, name="netsuite-catalog"),
    path("services/rest/record/v1/<str:record>", views.collection, name="netsuite-collection"),
    path("services/rest/record/v1/<str:record>/<str:ident>", views.instance, name="netsuite-record"),
    path("services/rest/query/v1/suiteql", views.suiteql_view, name="netsuite-suiteql"),
    path("services/rest/async/v1/job/<str:job>", views.async_job, name="netsuite-async-job"),
    path("services/rest/async/v1/job/<str:job>/task", views.async_tasks, name="netsuite-async-tasks"),
    path("services/rest/async/v1/job/<str:job>/task/<str:task>", views.async_task, name="netsuite-async-task"),
    path(
        "services/rest/async/v1/job/<str:job>/task/<str:task>/result",
        views.async_result,
        name="netsuite-async-result",
    ),
]
