"""Mounts each vendor sandbox at `/sandbox/<vendor>/` and its control endpoints at
`/sandbox/<vendor>/_admin/` (studio/urls.py includes this only when sandboxes are on)."""

import logging
from importlib.util import find_spec

from django.urls import include, path

from integrations.sandboxes.admin_api import admin_urls

logger = logging.getLogger(__name__)

SANDBOXES = {
    "salesforce": "integrations.sandboxes.salesforce.urls",
    "hubspot": "integrations.sandboxes.hubspot.urls",
    "kantata": "integrations.sandboxes.kantata.urls",
    "workday": "integrations.sandboxes.workday.urls",
    "bamboohr": "integrations.sandboxes.bamboohr.urls",
    "netsuite": "integrations.sandboxes.netsuite.urls",
    "dynamics": "integrations.sandboxes.dynamics.urls",
}


def _available(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


urlpatterns = []
for vendor, module in SANDBOXES.items():
    # One set of admin views serves every vendor; the vendor arrives as a keyword.
    urlpatterns.append(path(f"{vendor}/_admin/", include(admin_urls()), {"vendor": vendor}))
    if _available(module):
        urlpatterns.append(path(f"{vendor}/", include(module)))
    else:
        logger.debug("Sandbox %s is not built yet (%s missing)", vendor, module)
