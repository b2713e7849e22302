"""GET /healthz for load balancers and `make run`: 200 when database, broker and worker
are up, 503 naming what is down. Public (no login) and reveals only up/down facts."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.health import checks


@login_not_required
@never_cache
@require_GET
def healthz(request):
    healthy, body = checks.report()
    return JsonResponse(body, status=200 if healthy else 503)
