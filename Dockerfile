# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SWITCHBOARD_VAR_DIR=/app/var
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time; whitenoise serves them from the web server (granian).
# The build needs a throwaway key only because settings load; it is not kept.
RUN SECRET_KEY=build-only SWITCHBOARD_FERNET_KEYS=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --create-home --uid 10001 switchboard && chown -R switchboard /app/var
USER switchboard

EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "studio.wsgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "3", "--blocking-threads", "4", "--respawn-failed-workers", "--workers-kill-timeout", "30"]
