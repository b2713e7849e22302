"""Forms of the actions on exceptions. They check the shape of what was typed; the services
(integrations/runs/inbox/) decide whether the action applies and say which field is at fault."""

import json

from django import forms

from integrations.runs.inbox.bulk import ACTIONS as BULK_ACTIONS

FROM_STEP = [("failed", "From the failed step"), ("start", "From the start")]
VERSION = [("ran", "The version that ran"), ("current", "The live version")]


class RetryForm(forms.Form):
    from_step = forms.ChoiceField(choices=FROM_STEP, initial="failed", widget=forms.RadioSelect, label="Start")
    version = forms.ChoiceField(choices=VERSION, initial="ran", widget=forms.RadioSelect, label="Version")


class ResolveForm(forms.Form):
    reason = forms.CharField(max_length=2000, label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class SkipForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, label="Reason (optional)")


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(required=False, label="Assign to")

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "Nobody (unassign)"), *((p, p) for p in people)]


class TagForm(forms.Form):
    add = forms.CharField(required=False, max_length=40, label="Add tag")
    remove = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not (data.get("add") or "").strip() and not data.get("remove"):
            self.add_error("add", "Type a tag to add.")
        return data


class CommentForm(forms.Form):
    body = forms.CharField(max_length=10000, label="Comment", widget=forms.Textarea(attrs={"rows": 2}))


class ResubmitForm(forms.Form):
    """The edited input as JSON text; `confirm` is set by the confirmation step."""

    input = forms.CharField(label="Input (JSON)", widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}))
    note = forms.CharField(required=False, max_length=2000, label="Note (optional)")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_input(self):
        text = self.cleaned_data["input"]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise forms.ValidationError(f"Not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}.") from err
        if not isinstance(value, dict):
            raise forms.ValidationError("The input must be a JSON object ({…}).")
        return value


class BulkForm(forms.Form):
    """A bulk action over the selected rows or over everything the filters match."""

    action = forms.ChoiceField(choices=[("", "Choose an action…"), *((a, a.title()) for a in BULK_ACTIONS)])
    scope = forms.ChoiceField(choices=[("selected", "Selected"), ("all", "All matching")], initial="selected")
    ids = forms.TypedMultipleChoiceField(required=False, coerce=int)
    from_step = forms.ChoiceField(required=False, choices=FROM_STEP, initial="failed")
    version = forms.ChoiceField(required=False, choices=VERSION, initial="current")
    reason = forms.CharField(required=False, max_length=2000)
    assignee = forms.CharField(required=False, max_length=150)
    tag = forms.CharField(required=False, max_length=40)
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id the page posts is a choice; the service only acts on those the filters match.
        ids = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(i, i) for i in ids]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("ids"):
            self.add_error("ids", "Select at least one exception, or choose “all matching”.")
        if data.get("action") == "resolve" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say how the exceptions were resolved.")
        if data.get("action") == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", "Type the tag to add.")
        return data

    def params(self) -> dict:
        """The parameters the bulk service passes to each action."""
        data, action = self.cleaned_data, self.cleaned_data["action"]
        if action == "retry":
            return {"from_step": data["from_step"] or "failed", "version": data["version"] or "current"}
        if action in ("resolve", "skip"):
            return {"reason": data["reason"].strip()}
        if action == "assign":
            return {"assignee": data["assignee"].strip() or None}
        return {"add": [data["tag"].strip()]}
