"""The run history's filters: a form, so a bad value is answered with the field's name
instead of being ignored or breaking the page. Every filter narrows on an indexed column
(docs/ARCHITECTURE.md#web-layer): flow and version are resolved to flow-version ids first, so
the run table is never joined to answer them."""

from django import forms

from integrations.flows.models import FlowVersion
from integrations.runs.choices import Trigger
from studio.ui.day_range import within_days
from studio.ui.runs import statuses


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, label="Status")
    flow = forms.ChoiceField(required=False, label="Flow")
    version = forms.IntegerField(required=False, min_value=1, label="Version")
    trigger = forms.ChoiceField(required=False, label="Trigger")
    business_key = forms.CharField(required=False, max_length=200, strip=True, label="Business key")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    retries = forms.BooleanField(required=False, label="Retries only")

    def __init__(self, *args, flows=(), **kwargs):
        """`flows`: (key, name) of every flow, for the flow menu."""
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any"), *statuses.filter_choices()]
        self.fields["flow"].choices = [("", "Any"), *flows]
        self.fields["trigger"].choices = [("", "Any"), *Trigger.choices]
        self.fields["business_key"].widget.attrs.update(placeholder="exact, e.g. PRJ-004213", autocomplete="off")
        self.fields["version"].widget.attrs.update(placeholder="any")

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "“To” must be on or after “From”.")
        return data

    @property
    def active(self) -> list[tuple[str, str]]:
        """(label, shown value) of each filter in use, for the empty state's explanation."""
        if not self.is_bound or self.errors:
            return []
        shown = []
        for name, value in self.cleaned_data.items():
            if value in (None, "", False):
                continue
            field = self[name]
            choices = dict(getattr(field.field, "choices", ()))
            shown.append((field.label, "yes" if value is True else str(choices.get(value, value))))
        return shown

    def apply(self, queryset):
        """The queryset narrowed by the valid filters (call after is_valid())."""
        data = self.cleaned_data
        if data.get("flow") or data.get("version"):
            versions = FlowVersion.objects.all()
            if data.get("flow"):
                versions = versions.filter(flow__key=data["flow"])
            if data.get("version"):
                versions = versions.filter(number=data["version"])
            queryset = queryset.filter(flow_version_id__in=list(versions.values_list("id", flat=True)))
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("trigger"):
            queryset = queryset.filter(trigger=data["trigger"])
        if data.get("business_key"):
            queryset = queryset.filter(business_key=data["business_key"])
        if data.get("retries"):
            queryset = queryset.filter(retry_of__isnull=False)
        return within_days(queryset, "created_at", data.get("since"), data.get("until"))
