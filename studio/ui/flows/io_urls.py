"""Export and import of flow definitions; included from studio/ui/flows/urls.py."""

from django.urls import path

from studio.ui.flows import io

urlpatterns: list = [
    path("", io.io_page, name="io"),
    path("export.json", io.export_file, name="export"),
    path("import/", io.import_file, name="import"),
]
