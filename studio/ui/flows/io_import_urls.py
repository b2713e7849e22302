"""The list-level import page /flows/import/; included from studio/ui/flows/urls.py."""

from django.urls import path

from studio.ui.flows import io

urlpatterns: list = [path("", io.import_page, name="import-list")]
