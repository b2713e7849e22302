"""Navigation for the base layout: the sections a signed-in user may open."""

from studio.permissions import visible_sections


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    return {"nav_sections": visible_sections(user)}
