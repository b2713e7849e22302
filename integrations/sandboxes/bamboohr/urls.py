from django.urls import path

from integrations.sandboxes.bamboohr import datasets, tables, views

urlpatterns = [
    path("api/v1/employees", views.employees, name="bamboohr-employees"),
    path("api/v1/employees/directory", views.directory, name="bamboohr-directory"),
    path("api/v1/employees/changed", views.changed, name="bamboohr-changed"),
    path("api/v1/employees/<int:employee_id>", views.employee, name="bamboohr-employee"),
    path("api/v1/employees/<int:employee_id>/tables/<str:table_name>", tables.table, name="bamboohr-table"),
    path("api/v2/datasets/<str:dataset>/data", datasets.employee_data, name="bamboohr-dataset-data"),
    path("api/v1/webhooks", views.webhook_list, name="bamboohr-webhooks"),
    path("api/v1/webhooks/<int:webhook_id>/log", views.webhook_log, name="bamboohr-webhook-log"),
]
