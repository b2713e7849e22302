"""The audit log's filters: a form, so a bad value is reported by field name instead of
being ignored or breaking the page."""

from django import forms

from studio.ui.day_range import within_days


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Actor")
    action = forms.CharField(required=False, max_length=60, label="Action", help_text="e.g. connection.update")
    object_type = forms.ChoiceField(required=False, label="Object type")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, object_types=(), **kwargs):
        """`object_types`: the (stored type, readable name) pairs the log holds."""
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "Any"), *object_types]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "“To” must be on or after “From”.")
        return data

    def apply(self, queryset):
        """The queryset narrowed by the valid filters (call after is_valid())."""
        data = self.cleaned_data
        if data.get("actor"):
            queryset = queryset.filter(actor_label__iexact=data["actor"])
        if data.get("action"):
            queryset = queryset.filter(action__startswith=data["action"])
        if data.get("object_type"):
            queryset = queryset.filter(object_type=data["object_type"])
        return within_days(queryset, "at", data.get("since"), data.get("until"))
