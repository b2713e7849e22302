"""The exception queue's tabs, filters and grouping, read from the query string: a bad value
is reported at its field (400) instead of being ignored, and the valid ones become the
filters the services share with the API (integrations/runs/queries.py)."""

from django import forms

from integrations.runs.choices import Classification, ExceptionStatus

TABS = {
    "open": ("Open", (ExceptionStatus.OPEN, ExceptionStatus.ASSIGNED)),
    "retrying": ("Retrying", (ExceptionStatus.RETRYING,)),
    "resolved": ("Resolved", (ExceptionStatus.RESOLVED, ExceptionStatus.SKIPPED)),
}
GROUPS = {"signature": "Message signature", "step": "Step", "classification": "Classification"}
# filter name -> the name integrations.runs.queries.filter_exceptions reads
PASSED_ON = ("flow", "step_id", "classification", "business_key", "assignee", "tag", "signature", "q", "region")


class ExceptionFilterForm(forms.Form):
    tab = forms.ChoiceField(required=False, choices=[(k, label) for k, (label, _) in TABS.items()])
    q = forms.CharField(required=False, max_length=200, label="Search", help_text="Message or business key")
    flow = forms.ChoiceField(required=False, label="Flow")
    step_id = forms.CharField(required=False, max_length=64, label="Step")
    classification = forms.ChoiceField(
        required=False, label="Classification", choices=[("", "Any"), *Classification.choices]
    )
    business_key = forms.CharField(required=False, max_length=200, label="Business key")
    assignee = forms.CharField(required=False, max_length=150, label="Assignee", help_text="username")
    tag = forms.CharField(required=False, max_length=40, label="Tag")
    region = forms.CharField(
        required=False, max_length=100, label="Region", help_text="the record's region; “unknown” for none"
    )
    signature = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    group = forms.ChoiceField(required=False, label="Group by", choices=[("", "No grouping"), *GROUPS.items()])

    def __init__(self, *args, flows=(), **kwargs):
        """`flows`: (key, name) of the flows that can be chosen."""
        super().__init__(*args, **kwargs)
        choices = [("", "Any"), *flows]
        # A dashboard link may name several flows at once ("a,b": the invoice flows); offer that
        # set as one more choice when every flow in it exists.
        asked = self.data.get("flow", "") if self.is_bound else ""
        known = {key for key, _ in flows}
        if "," in asked and set(asked.split(",")) <= known:
            choices.append((asked, asked.replace(",", ", ")))
        self.fields["flow"].choices = choices

    def chosen_tab(self) -> str:
        return (self.cleaned_data.get("tab") if self.is_bound and self.is_valid() else "") or "open"

    def service_filters(self) -> dict:
        """The filters for integrations.runs.queries.filter_exceptions: the tab's statuses and
        every valid filter given (call after is_valid())."""
        filters = {"status": ",".join(TABS[self.chosen_tab()][1])}
        for name in PASSED_ON:
            if self.cleaned_data.get(name):
                filters[name] = self.cleaned_data[name]
        return filters
