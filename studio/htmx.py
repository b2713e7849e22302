"""htmx helpers for UI views: one view per page, which renders either the whole page or
the fragment htmx asked for, so pages work without JavaScript and update in place with it
(docs/ARCHITECTURE.md#web-layer; the pattern of netbox/utilities/htmx.py)."""

from django.http import HttpResponse


def htmx_partial(request) -> bool:
    """True when htmx asks for a fragment: an htmx request that is not a boosted page load."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def hx_redirect(url: str) -> HttpResponse:
    """Tell htmx to navigate the whole page (a plain 302 would be swapped into the target)."""
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response
