"""Mounts each vendor sandbox at `/sandbox/<vendor>/` and its control endpoints at
`/sandbox/<vendor>/_admin/` (studio/urls.py includes this only when sandboxes are on).
Every vendor listed must exist: a missing module fails loudly at start-up."""

from django.urls import include, path

from integrations.sandboxes.admin_api import admin_urls

SANDBOXES = {
    "salesforce": "integrations.sandboxes.salesforce.urls",
    "hubspot": "integrations.sandboxes.hubspot.urls",
    "kantata": "integrations.sandboxes.kantata.urls",
    "workday": "integrations.sandboxes.workday.urls",
    "bamboohr": "integrations.sandboxes.bamboohr.urls",
    "netsuite": "integrations.sandboxes.netsuite.urls",
    "dynamics": "integrations.sandboxes.dynamics.urls",
}

urlpatterns = []
for vendor, module in SANDBOXES.items():
    # One set of admin views serves every vendor; the vendor arrives as a keyword.
    urlpatterns.append(path(f"{vendor}/_admin/", include(admin_urls()), {"vendor": vendor}))
    urlpatterns.append(path(f"{vendor}/", include(module)))
