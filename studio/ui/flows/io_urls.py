"""Export and import of flow definitions; included from studio/ui/flows/urls.py."""

urlpatterns: list = []
