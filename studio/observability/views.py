"""GET /metrics in the Prometheus text format, for a scraper holding the metrics token.

- SWITCHBOARD_METRICS_TOKEN unset (the default): 404, as if the endpoint did not exist.
- Set: the request must carry `Authorization: Bearer <token>`; otherwise 401 with
  `WWW-Authenticate: Bearer`. No session or login page is involved (a machine path).

Scrape config: `authorization: {type: Bearer, credentials: <token>}` on the job."""

import hmac

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from studio.observability.metrics import registry


def bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@login_not_required
@never_cache
@require_GET
def metrics(request):
    expected = settings.SWITCHBOARD_METRICS_TOKEN
    if not expected:
        return HttpResponseNotFound("Not found.\n", content_type="text/plain")
    if not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        response = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="switchboard-metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
