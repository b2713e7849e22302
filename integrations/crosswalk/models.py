"""The crosswalk: links between one canonical identity and its ids in each system."""

from django.db import models


class CrosswalkLink(models.Model):
    object = models.CharField(max_length=64, help_text="Canonical object, e.g. 'client'.")
    canonical_id = models.CharField(max_length=64)
    system = models.CharField(max_length=64, help_text="Connection name, e.g. 'salesforce'.")
    external_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object", "canonical_id", "system"]
        constraints = [
            models.UniqueConstraint(fields=["object", "system", "external_id"], name="crosswalk_external_unique"),
            models.UniqueConstraint(fields=["object", "canonical_id", "system"], name="crosswalk_one_id_per_system"),
        ]

    def __str__(self) -> str:
        return f"{self.object}:{self.canonical_id} = {self.system}:{self.external_id}"
