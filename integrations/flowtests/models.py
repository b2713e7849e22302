"""Models of flow testing: samples pinned per flow, each optionally with its expected output."""

from django.conf import settings
from django.db import models


class Sample(models.Model):
    """A named input record kept with a flow. With `expected` set it is a regression sample:
    every sample's expected output must still come out of the draft before it is published."""

    flow = models.ForeignKey("flows.Flow", on_delete=models.CASCADE, related_name="samples")
    name = models.CharField(max_length=100)
    record = models.JSONField(help_text="The input record (or a batch flow's page).")
    expected = models.JSONField(
        null=True, blank=True, help_text="The output the flow must produce for this record; empty = no check."
    )
    source = models.CharField(max_length=200, blank=True, help_text="Where the record came from.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["flow", "name"]
        constraints = [models.UniqueConstraint(fields=["flow", "name"], name="one_sample_name_per_flow")]

    def __str__(self) -> str:
        return f"{self.flow.key}: {self.name}"

    @property
    def is_regression(self) -> bool:
        return self.expected is not None
