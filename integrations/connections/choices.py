from django.db import models


class ConnectionStatus(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    OFFLINE = "offline", "Offline"
    MAINTENANCE = "maintenance", "In maintenance"
    PAUSED = "paused", "Paused"
    UNVERIFIED = "unverified", "Unverified"


class WindowKind(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    ONE_OFF = "one_off", "One-off"
