"""Canonical objects: the list, and one object's fields (type, required, description,
example, allowed values, where used), its versions and the diff between two of them.
Read-only pages: `view_studio`."""

from django.http import Http404
from django.shortcuts import render

from integrations.canonical import registry
from integrations.canonical.diff import diff_versions
from integrations.canonical.fields import field_list
from integrations.canonical.usage import affected_by
from studio.permissions import capability_required
from studio.ui.canonical.queries import field_rows, flow_key, usage_dict, usages


def _int(value, default: int) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 6 else default


@capability_required("view_studio")
def canonical_list(request):
    rows = []
    for name in registry.list_objects():
        versions = registry.list_versions(name)
        schema = registry.get_schema(name, versions[-1])
        fields = field_list(name, versions[-1])
        flows = {flow_key(u.flow) for found in usages(name, versions[-1]).values() for u in found}
        rows.append(
            {
                "name": name,
                "title": schema.get("title", name),
                "description": schema.get("description", ""),
                "version": versions[-1],
                "versions": len(versions),
                "fields": len(fields),
                "required": sum(f.required for f in fields),
                "flows": sorted(flows),
            }
        )
    return render(request, "canonical/list.html", {"rows": rows})


@capability_required("view_studio")
def canonical_object(request, name):
    versions = registry.list_versions(name)
    if not versions:
        raise Http404(f"there is no canonical object {name}")
    version = _int(request.GET.get("version"), versions[-1])
    if version not in versions:
        version = versions[-1]
    schema = registry.get_schema(name, version)
    query = request.GET.get("q", "")[:100]
    context = {
        "name": name,
        "schema": schema,
        "version": version,
        "versions": versions,
        "query": query,
        "rows": field_rows(name, version, query),
        "total": len(field_list(name, version)),
        **_compare(request, name, versions, version),
    }
    return render(request, "canonical/object.html", context)


def _compare(request, name: str, versions: list[int], version: int) -> dict:
    """The diff between two versions (default: the one before the shown one, and it)."""
    if len(versions) < 2:
        return {"compare": None}
    newer = _int(request.GET.get("to"), version)
    older = _int(request.GET.get("from"), max((v for v in versions if v < newer), default=versions[0]))
    if older not in versions or newer not in versions or older == newer:
        return {"compare": {"error": "pick two different versions", "from": older, "to": newer}}
    changes = diff_versions(name, older, newer)
    affected = affected_by(changes, usages(name, older))
    rows = [{"change": c, "affected": [usage_dict(u) for u in affected.get(c.path, [])]} for c in changes]
    return {"compare": {"from": older, "to": newer, "rows": rows, "breaking": sum(c.breaking for c in changes)}}
