from django.urls import include, path

from studio.ui.flows import editor, publish, step_panel, trigger, versions, views

app_name = "flows"

urlpatterns = [
    path("", views.flow_list, name="list"),
    path("new/", views.flow_new, name="new"),
    path("import/", include("studio.ui.flows.io_import_urls")),
    path("<slug:key>/", views.flow_editor, name="editor"),
    path("<slug:key>/runs/", views.flow_runs, name="runs"),
    path("<slug:key>/settings/", views.flow_settings, name="settings"),
    path("<slug:key>/status/", views.flow_status, name="status"),
    path("<slug:key>/trigger/", trigger.trigger_panel, name="trigger"),
    path("<slug:key>/trigger/cron/", trigger.cron_preview, name="cron-preview"),
    path("<slug:key>/trigger/watermarks/<int:pk>/reset/", trigger.reset_watermark, name="watermark-reset"),
    path("<slug:key>/steps/add/", editor.add_step, name="step-add"),
    path("<slug:key>/steps/move/", editor.move_step, name="step-move"),
    path("<slug:key>/steps/delete/", editor.delete_step, name="step-delete"),
    path("<slug:key>/steps/<int:index>/", step_panel.step_panel, name="step-panel"),
    path("<slug:key>/versions/", versions.version_list, name="versions"),
    path("<slug:key>/versions/compare/", versions.compare, name="version-compare"),
    path("<slug:key>/versions/<int:number>/restore/", versions.restore, name="version-restore"),
    path("<slug:key>/publish/", publish.publish_page, name="publish"),
    path("<slug:key>/publish/impact/", publish.impact, name="publish-impact"),
    path("<slug:key>/publish/requests/<int:pk>/<str:decision>/", publish.decide, name="publish-decide"),
    path("<slug:key>/steps/<int:index>/", include("studio.ui.flows.panel_urls")),
    path("<slug:key>/test/", include("studio.ui.flows.test_urls")),
    path("<slug:key>/io/", include("studio.ui.flows.io_urls")),
]
