"""Forms of the users page: invite and roles. Roles are the groups of the role matrix."""

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from integrations.accounts.roles import CAPABILITIES, ROLES, VIEWER

# /users/<username>/ must not collide with the page /users/invite/.
RESERVED_USERNAMES = {"invite"}


def _role_choices():
    return [(role, role) for role in ROLES]


def _can(role: str) -> str:
    """What a role can do; every role can view, so the others list only what they add."""
    if role == VIEWER:
        return CAPABILITIES["view_studio"][0].removeprefix("Can ")
    added = [desc for code, (desc, roles) in CAPABILITIES.items() if role in roles and code != "view_studio"]
    return "view, and " + "; ".join(desc.removeprefix("Can ") for desc in added)


def role_options(form) -> list[dict]:
    """The role checkboxes of `form` with what each role can do beside it."""
    field = form["roles"]
    chosen = set(field.value() or ())
    return [
        {
            "value": role,
            "id": f"role-{role.lower()}",
            "checked": role in chosen,
            "can": _can(role),
        }
        for role in ROLES
    ]


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=_role_choices, required=False, widget=forms.CheckboxSelectMultiple, label="Roles"
    )


class InviteForm(RolesForm):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()], label="Username")
    email = forms.EmailField(max_length=254, label="Email")
    first_name = forms.CharField(max_length=150, required=False, label="First name")
    last_name = forms.CharField(max_length=150, required=False, label="Last name")

    field_order = ["username", "email", "first_name", "last_name", "roles"]

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username.lower() in RESERVED_USERNAMES:
            raise forms.ValidationError(f"“{username}” is the name of a page here; pick another username.")
        return username

    def clean_roles(self):
        roles = self.cleaned_data["roles"]
        if not roles:
            raise forms.ValidationError("Pick at least one role: without one the person can open nothing.")
        return roles
