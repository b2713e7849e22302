from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "integrations.gallery"
    label = "gallery"
