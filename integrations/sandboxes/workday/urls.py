from django.urls import path

from integrations.sandboxes.workday import auth, views

urlpatterns = [
    path("ccx/oauth2/<str:tenant>/token", auth.token, name="workday-token"),
    path("ccx/api/v1/<str:tenant>/workers", views.workers, name="workday-workers"),
    path("ccx/api/v1/<str:tenant>/workers/<str:worker_id>", views.worker, name="workday-worker"),
    path("ccx/api/timeTracking/v5/<str:tenant>/timeBlocks", views.time_blocks, name="workday-time-blocks"),
    path("ccx/api/timeTracking/v5/<str:tenant>/timeBlocks/<str:block_id>", views.time_block, name="workday-time-block"),
    path("ccx/service/customreport2/<str:tenant>/<str:owner>/<str:name>", views.report, name="workday-report"),
]
