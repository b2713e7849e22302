"""Template gallery: the reference flows as cards (what each does, the connections it needs,
the missing ones named) and Install, which makes a draft flow and opens it in the editor.

Looking needs `view_studio`; installing `edit_flows` (integrations/accounts/roles.py). The
install is audited by integrations/gallery/install.py."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integrations.flows.services import DraftInvalid
from integrations.gallery import install as installing
from studio.permissions import can, capability_required


@capability_required("view_studio")
def gallery(request):
    context = {
        "cards": installing.cards(),
        "can_install": can(request.user, "edit_flows"),
        "can_connect": can(request.user, "manage_connections"),
    }
    return render(request, "gallery/list.html", context)


@require_POST
@capability_required("edit_flows")
def install(request, template):
    try:
        flow = installing.install(request.user, template)
    except LookupError:
        raise Http404("no such template") from None
    except (ValueError, DraftInvalid) as exc:
        messages.error(request, f"Could not install: {exc}")
        return redirect("gallery:list")
    messages.success(request, f"Installed “{flow.name}” as a draft. Check its connections, test it, then publish.")
    return redirect("flows:editor", key=flow.key)
