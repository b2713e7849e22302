from django.urls import path

from integrations.sandboxes.workday import auth, time_blocks, views

TIME = "ccx/api/timeTracking/v5/<str:tenant>"

urlpatterns = [
    path("ccx/oauth2/<str:tenant>/token", auth.token, name="workday-token"),
    path("ccx/api/v1/<str:tenant>/workers", views.workers, name="workday-workers"),
    path("ccx/api/v1/<str:tenant>/workers/<str:worker_id>", views.worker, name="workday-worker"),
    path(f"{TIME}/workers/<str:worker_id>/workerTimeBlock", time_blocks.create, name="workday-block-create"),
    path(f"{TIME}/workers/<str:worker_id>/workerTimeBlock/<str:block_id>", time_blocks.change,
         name="workday-block-change"),
    path(f"{TIME}/workerTimeBlocks", time_blocks.listing, name="workday-blocks"),
    path(f"{TIME}/workerTimeBlocks/<str:block_id>", time_blocks.single, name="workday-block"),
    path("ccx/service/customreport2/<str:tenant>/<str:owner>/<str:name>", views.report, name="workday-report"),
    # Last: any other REST path is an unknown resource (404), e.g. the retired `…/timeBlocks`.
    path("ccx/api/<path:rest>", views.unknown_resource, name="workday-unknown-resource"),
]  # fmt: skip
