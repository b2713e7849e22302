"""Flow testing pages (test panel, samples); included from studio/ui/flows/urls.py."""

urlpatterns: list = []
