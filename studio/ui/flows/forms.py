"""Forms of the flow pages: list filters, a new flow, the settings tab."""

from django import forms
from django.contrib.auth import get_user_model

from integrations.flows.choices import FlowStatus

TEXT_MAX = 200


class FlowFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=TEXT_MAX, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *FlowStatus.choices])
    owner = forms.CharField(required=False, max_length=150)
    tag = forms.CharField(required=False, max_length=60)
    connector = forms.CharField(required=False, max_length=64, label="Connection")

    def filters(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v} if self.is_valid() else {}


class NewFlowForm(forms.Form):
    key = forms.SlugField(
        max_length=64, help_text="Lower-case letters, digits and dashes; used in addresses and the API."
    )
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    start_from = forms.ChoiceField(required=False, label="Start from", help_text="Copy the live steps of a flow.")

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start_from"].choices = [("", "Blank flow"), *templates]


class SettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    tags = forms.CharField(required=False, max_length=500, help_text="Comma-separated, e.g. finance, nightly.")
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        if any(len(t) > 40 for t in tags):
            raise forms.ValidationError("each tag is at most 40 characters")
        if len(tags) > 20:
            raise forms.ValidationError("at most 20 tags")
        return list(dict.fromkeys(tags))
