import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (settings are configured by now)

if settings.SWITCHBOARD_INVOKE_GATEWAY:
    from studio.api.invoke_gateway import InvokeGateway

    # Synchronous flow invocations are answered before Django's request cycle; see the module.
    application = InvokeGateway(application)
