"""Users and roles, Admin only (`manage_users`): list, invite, roles, deactivate/reactivate,
one-time set-password links and API tokens.

A secret (a token key or a set-password link) is rendered once, in the answer to the POST
that made it, with caching forbidden; it is never put in a message, the session, a log line
or the audit log, and no page shows it again (only a token's prefix)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from integrations.accounts import tokens
from integrations.accounts.users import roles_of
from studio.permissions import capability_required
from studio.ui.users import actions
from studio.ui.users.forms import InviteForm, RolesForm, role_options

User = get_user_model()


def _reset_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def _status(user) -> tuple[str, str]:
    """(label, badge css) — an invited user has never signed in and has no password yet."""
    if not user.is_active:
        return "Deactivated", "badge-bad"
    if user.last_login is None and not user.has_usable_password():
        return "Invited", "badge-warn"
    return "Active", "badge-ok"


def _row(user) -> dict:
    label, css = _status(user)
    return {"person": user, "roles": roles_of(user), "status": label, "status_css": css, "token": tokens.token_of(user)}


@capability_required("manage_users")
def user_list(request):
    people = User.objects.order_by("username").prefetch_related("groups")
    return render(request, "users/list.html", {"rows": [_row(u) for u in people]})


@never_cache
@capability_required("manage_users")
def user_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.invite(request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return _show_password_link(request, user, invited=True)
    status = 400 if form.errors else 200
    return render(
        request,
        "users/invite.html",
        {"form": form, "role_options": role_options(form), "reset_days": _reset_days()},
        status=status,
    )


def _get(username):
    return get_object_or_404(User.objects.prefetch_related("groups"), username=username)


@capability_required("manage_users")
def user_detail(request, username):
    return _render_detail(request, _get(username))


def _render_detail(request, user, roles_form=None, status=200):
    roles_form = roles_form or RolesForm(initial={"roles": roles_of(user)})
    context = {
        **_row(user),
        "roles_form": roles_form,
        "role_options": role_options(roles_form),
        "is_self": user.pk == request.user.pk,
    }
    return render(request, "users/detail.html", context, status=status)


@require_POST
@capability_required("manage_users")
def user_roles(request, username):
    user = _get(username)
    form = RolesForm(request.POST)
    if form.is_valid():
        try:
            changed = actions.change_roles(request.user, user, form.cleaned_data["roles"])
        except ValidationError as exc:
            form.add_error("roles", exc.message_dict.get("roles", exc.messages))
        else:
            messages.success(request, f"Roles of {user.username} saved." if changed else "Roles unchanged.")
            return redirect("users:detail", username=user.username)
    return _render_detail(request, user, roles_form=form, status=400)


@require_POST
@capability_required("manage_users")
def user_active(request, username):
    user = _get(username)
    active = request.POST.get("active") == "1"
    try:
        actions.set_active(request.user, user, active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        verb = "reactivated: they can sign in again" if active else "deactivated: they can no longer sign in"
        messages.success(request, f"{user.username} {verb}; their API token follows.")
    return redirect("users:detail", username=user.username)


@never_cache
@require_POST
@capability_required("manage_users")
def user_password_link(request, username):
    user = _get(username)
    if not user.is_active:
        messages.error(request, "Reactivate the user before making a set-password link.")
        return redirect("users:detail", username=user.username)
    return _show_password_link(request, user, invited=False)


def _show_password_link(request, user, *, invited: bool):
    uidb64, token = actions.password_link_parts(request.user, user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
    # Where people reach the studio, when configured (it may differ from the admin's own address).
    public = settings.SWITCHBOARD_PUBLIC_URL.rstrip("/")
    link = public + path if public else request.build_absolute_uri(path)
    return render(
        request,
        "users/secret.html",
        {"person": user, "link": link, "invited": invited, "reset_days": _reset_days()},
        status=201,
    )


@never_cache
@require_POST
@capability_required("manage_users")
def token_create(request, username):
    user = _get(username)
    if not user.is_active:
        messages.error(request, "Reactivate the user before giving them an API token.")
        return redirect("users:detail", username=user.username)
    key = actions.issue_token(request.user, user)
    return render(request, "users/secret.html", {"person": user, "token_key": key}, status=201)


@require_POST
@capability_required("manage_users")
def token_revoke(request, username):
    user = _get(username)
    prefix = actions.revoke_token(request.user, user)
    if prefix:
        messages.success(request, f"API token {prefix}… revoked: calls with it now get 401.")
    else:
        messages.info(request, f"{user.username} has no API token.")
    return redirect("users:detail", username=user.username)
