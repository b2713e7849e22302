"""Which stored events to replay: by flow, connection, time range or business key (for
example every event of one client since a date). A bad value is answered with its field."""

from django import forms

from integrations.connections.models import Connection
from integrations.flows.models import Flow

SELECTORS = ("flow", "connection", "business_key", "received_from", "received_to")


class ReplayForm(forms.Form):
    flow = forms.ChoiceField(
        required=False, label="Flow", help_text="Events that ran through it, replayed on its live version."
    )
    connection = forms.ChoiceField(
        required=False, label="Connection", help_text="The connection the events came in on."
    )
    business_key = forms.CharField(required=False, max_length=200, strip=True, label="Business key")
    received_from = forms.DateTimeField(
        required=False, label="Received from", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    received_to = forms.DateTimeField(
        required=False, label="Received to", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flow"].choices = [("", "Any"), *Flow.objects.order_by("name").values_list("key", "name")]
        self.fields["connection"].choices = [
            ("", "Any"),
            *((c.name, str(c)) for c in Connection.objects.order_by("name").only("name", "label")),
        ]
        self.fields["business_key"].widget.attrs.update(placeholder="exact, e.g. INV-0042", autocomplete="off")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not any(data.get(name) for name in SELECTORS):
            raise forms.ValidationError("Choose the events: a flow, a connection, a business key or a time range.")
        if data.get("received_from") and data.get("received_to") and data["received_from"] > data["received_to"]:
            self.add_error("received_to", "Must be after “Received from”.")
        if data.get("flow"):
            flow = Flow.objects.get(key=data["flow"])
            if flow.live_version is None:
                self.add_error("flow", "This flow has no published version to replay on.")
            data["flow_obj"] = flow
        return data

    @property
    def chosen_flow(self):
        return self.cleaned_data.get("flow_obj")

    def query(self) -> dict:
        """The valid selection as query parameters (for the links and hidden fields)."""
        shown = {}
        for name in SELECTORS:
            value = self.cleaned_data.get(name)
            if value:
                shown[name] = self.data.get(name)
        return shown
