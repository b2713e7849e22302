"""The mapping editor: the panel of a `map` step.

Three columns: the source tree of the sample record the step receives, the target fields
(a canonical object's schema, else the fields of the object the next deliver step writes),
and each row's value on the sample. A row is edited in place (htmx swaps it), its preview
follows the typing (the engine evaluates the row as a run would), and every save writes the
step into the draft through integrations.flows.editing. "Suggest mappings" proposes rows for
unmapped targets (integrations/flows/suggest.py), accepted or dismissed one by one."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.flows import editing
from studio.htmx import htmx_partial
from studio.permissions import capability_required
from studio.ui.flows.panels.common import StepContext, draft_errors, load, load_by_key, save_step
from studio.ui.flows.panels.map_form import CONVERSIONS, XW_DIRECTIONS, pairs_text, parse_row, row_values
from studio.ui.flows.panels.map_rows import (
    KINDS,
    TO,
    Row,
    Target,
    build_rows,
    canonical_targets,
    connector_targets,
    fill_preview,
    fill_previews,
    required_unmapped,
    suggestions,
    target_choices,
)
from studio.ui.flows.panels.map_shown import preview_cell, shown_row
from studio.ui.flows.panels.registry import register

MAX_DISMISSED = 500


def _targets(ctx: StepContext) -> tuple[list[Target], str]:
    ref = ctx.step.get("target")
    if isinstance(ref, str) and ref:
        return canonical_targets(ref), f"canonical {ref}"
    targets, origin = connector_targets(ctx.definition, ctx.index)
    return targets, origin or "the fields mapped so far"


def _place_errors(rows: list[Row], errors: list[dict]) -> None:
    """The engine's errors of this step (`fields[3].template`) onto the rows they point at."""
    by_position = {r.position: r for r in rows if r.position is not None}
    for error in errors:
        part = error["part"]
        if part.startswith("fields["):
            position, _, rest = part[len("fields[") :].partition("]")
            row = by_position.get(int(position)) if position.isdigit() else None
            if row is not None:
                row.errors[rest.lstrip(".").split(".")[0]] = error["message"]


def _rows(ctx: StepContext, errors: list[dict] | None = None, targets: list[Target] | None = None) -> list[Row]:
    rows = build_rows(ctx.step, _targets(ctx)[0] if targets is None else targets)
    fill_previews(rows, ctx.record, ctx.definition.get("value_maps") or {})
    _place_errors(rows, draft_errors(ctx) if errors is None else errors)
    return rows


def _context(request, ctx: StepContext, **extra) -> dict:
    targets, origin = _targets(ctx)
    rows = extra.pop("rows", None) or _rows(ctx, targets=targets)
    unmapped_only = request.GET.get("unmapped") == "1" or request.POST.get("unmapped") == "1"
    missing = required_unmapped(rows)
    sources = _source_tree(ctx.record)
    return {
        "flow": ctx.flow,
        "index": ctx.index,
        "step": ctx.step,
        "ctx": ctx,
        "rows": [shown_row(r) for r in rows if not (unmapped_only and r.mapped)],
        "row_count": len(rows),
        "mapped_count": sum(r.mapped for r in rows),
        "required_unmapped": missing,
        "unmapped_only": unmapped_only,
        "target_origin": origin,
        "target_choices": target_choices(),
        "sources": sources,
        "source_paths": [s["path"] for s in sources if not s["branch"]],
        "can_edit": ctx.can_edit,
        "urls": _urls(ctx),
        **extra,
    }


def _source_tree(record, prefix: str = "$", depth: int = 0, limit: int = 400) -> list[dict]:
    """The sample record as an indented list: branches (objects) and leaves with their path and
    value. The depth is text: the template only prints it (an int goes through localisation)."""
    out: list[dict] = []
    if not isinstance(record, dict) or depth > 4:
        return out
    for key, value in record.items():
        if len(out) >= limit:
            break
        key = str(key)
        path = f"{prefix}.{key}" if TO.match(key) and "." not in key else f"{prefix}['{key}']"
        if isinstance(value, dict):
            out.append({"path": path, "key": key, "depth": str(depth), "branch": True, "value": ""})
            out.extend(_source_tree(value, path, depth + 1, limit - len(out)))
        else:
            shown = "null" if value is None else str(value)
            out.append({"path": path, "key": key, "depth": str(depth), "branch": False, "value": shown[:80]})
    return out


def _urls(ctx: StepContext) -> dict:
    """The row actions' addresses, reversed once per response rather than once per row."""
    args = (ctx.flow.key, ctx.index)
    names = {"row": "map-row", "form": "map-row-form", "preview": "map-row-preview", "save": "map-row-save"}
    return {k: reverse(f"flows:{v}", args=args) for k, v in {**names, "remove": "map-row-remove"}.items()}


def _render_panel(request, ctx: StepContext, status: int = 200, **extra):
    context = _context(request, ctx, **extra)
    template = "flows/panels/map.html" if htmx_partial(request) else "flows/panels/page.html"
    context["panel_template"] = "flows/panels/map.html"
    return render(request, template, context, status=status)


@register("map")
def panel(request, flow, draft, index):
    return _render_panel(request, load(request, flow, draft, index, "map"))


def _find(rows: list[Row], to: str) -> Row:
    for row in rows:
        if row.target.to == to:
            return row
    if not TO.match(to or ""):
        raise Http404("There is no such target field.")
    return Row(Target(to), None, None)


def _row_for(ctx: StepContext, to: str) -> Row:
    """The row of target `to` as stored, without previews or validation (cheap: typing hits it)."""
    return _find(build_rows(ctx.step, _targets(ctx)[0]), to)


def _shown_row(ctx: StepContext, to: str, errors: list[dict] | None = None) -> tuple[Row, dict]:
    """The row of `to` with its preview and the engine's errors, and the panel's counters. Only
    this row is evaluated on the sample: the answer shows no other."""
    rows = build_rows(ctx.step, _targets(ctx)[0])
    counter = {"required_unmapped": required_unmapped(rows), "mapped_count": sum(r.mapped for r in rows)}
    found = _find(rows, to)
    if found.mapped:
        fill_preview(found, ctx.record, ctx.definition.get("value_maps") or {})
    _place_errors([found], draft_errors(ctx) if errors is None else errors)
    return found, counter


def _render_row(request, ctx: StepContext, row: Row, *, editing_row: bool, values=None, status=200, **extra):
    context = {
        "flow": ctx.flow,
        "index": ctx.index,
        "row": row,
        "r": shown_row(row),
        "kinds": KINDS,
        "conversions": CONVERSIONS,
        "xw_directions": XW_DIRECTIONS,
        "values": values or row_values(row.field),
        "value_maps": sorted((ctx.definition.get("value_maps") or {}).keys()),
        "can_edit": ctx.can_edit,
        "urls": _urls(ctx),
        "editing": editing_row,
        **extra,
    }
    if editing_row and not (values or {}).get("pairs"):
        name = context["values"].get("value_map")
        context["values"]["pairs"] = pairs_text((ctx.definition.get("value_maps") or {}).get(name))
    return render(request, "flows/panels/map_row.html", context, status=status)


@require_GET
@capability_required("view_studio")
def row(request, key: str, index: int):
    """A row shown (default) or opened for editing (?edit=1)."""
    ctx = load_by_key(request, key, index, "map")
    found, _counter = _shown_row(ctx, request.GET.get("to", ""))
    return _render_row(request, ctx, found, editing_row=request.GET.get("edit") == "1" and ctx.can_edit)


@require_POST
@capability_required("edit_flows")
def row_form(request, key: str, index: int):
    """Re-draw the open row for another row kind (nothing saved)."""
    ctx = load_by_key(request, key, index, "map")
    found = _row_for(ctx, request.POST.get("to", ""))
    values = {k: request.POST.get(k, "") for k in row_values(None)} | {"pairs": request.POST.get("pairs", "")}
    values["kind"] = request.POST.get("kind") if request.POST.get("kind") in KINDS else found.kind
    return _render_row(request, ctx, found, editing_row=True, values=values)


@require_POST
@capability_required("edit_flows")
def preview(request, key: str, index: int):
    """The preview cell of a row being typed: the engine's value or message, nothing saved."""
    ctx = load_by_key(request, key, index, "map")
    found = _row_for(ctx, request.POST.get("to", ""))
    mapping, pairs, errors = parse_row(request.POST, found.target.type)
    trial = Row(found.target, found.position, mapping)
    if not errors:
        maps = dict(ctx.definition.get("value_maps") or {})
        if pairs is not None:
            maps[mapping["value_map"]] = pairs
        fill_preview(trial, ctx.record, maps)
    else:
        trial.errors = errors
    return render(request, "flows/panels/map_preview.html", {"r": preview_cell(trial)})


def _with_field(step: dict, mapping: dict, position: int | None) -> dict:
    fields = [f for f in step.get("fields") or []]
    if position is not None and position < len(fields):
        fields[position] = mapping
    else:
        fields.append(mapping)
    return {**step, "fields": fields}


@require_POST
@capability_required("edit_flows")
def save(request, key: str, index: int):
    ctx = load_by_key(request, key, index, "map")
    found = _row_for(ctx, request.POST.get("to", ""))
    mapping, pairs, errors = parse_row(request.POST, found.target.type)
    values = {k: request.POST.get(k, "") for k in (*row_values(None), "pairs")}
    values["kind"] = request.POST.get("kind", "")
    if errors:
        found.errors = errors
        return _render_row(request, ctx, found, editing_row=True, values=values, status=422)
    if pairs is not None:
        maps = {**(ctx.definition.get("value_maps") or {}), mapping["value_map"]: pairs}
        try:
            editing.set_settings(ctx.flow, request.user, value_maps=maps)
        except editing.EditError as exc:
            found.errors = {"pairs": exc.message}
            return _render_row(request, ctx, found, editing_row=True, values=values, status=422)
        ctx = load_by_key(request, key, index, "map")
    step_errors, problem = save_step(ctx, request.user, _with_field(ctx.step, mapping, found.position))
    if problem:
        found.errors = {"": problem}
        return _render_row(request, ctx, found, editing_row=True, values=values, status=422)
    saved, counter = _shown_row(ctx, mapping["to"], step_errors)
    return _render_row(request, ctx, saved, editing_row=False, saved=True, counter=counter)


@require_POST
@capability_required("edit_flows")
def remove(request, key: str, index: int):
    ctx = load_by_key(request, key, index, "map")
    found = _row_for(ctx, request.POST.get("to", ""))
    errors = None
    if found.position is not None:
        fields = [f for i, f in enumerate(ctx.step.get("fields") or []) if i != found.position]
        errors, _problem = save_step(ctx, request.user, {**ctx.step, "fields": fields})
    shown, counter = _shown_row(ctx, found.target.to, errors)
    return _render_row(request, ctx, shown, editing_row=False, counter=counter)


@require_POST
@capability_required("edit_flows")
def set_target(request, key: str, index: int):
    ctx = load_by_key(request, key, index, "map")
    ref = request.POST.get("target", "")
    step = {k: v for k, v in ctx.step.items() if k != "target"}
    if ref:
        if ref not in target_choices():
            return _render_panel(request, ctx, status=422, target_error="Target: choose one of the listed objects")
        step["target"] = ref
    save_step(ctx, request.user, step)
    return _render_panel(request, ctx)


def _dismissed(request) -> list[str]:
    return [d for d in request.POST.getlist("dismissed")[:MAX_DISMISSED] if TO.match(d)]


@require_POST
@capability_required("edit_flows")
def suggest(request, key: str, index: int):
    """Propose rows for the unmapped targets; accept or dismiss each (the panel is re-drawn)."""
    ctx = load_by_key(request, key, index, "map")
    dismissed = _dismissed(request)
    action, to = request.POST.get("action", ""), request.POST.get("to", "")
    if action == "dismiss" and TO.match(to):
        dismissed.append(to)
    rows = _rows(ctx)
    if action == "accept":
        chosen = next((s for s in suggestions(rows, ctx.record) if s.target == to), None)
        if chosen is not None:
            target = next(r for r in rows if r.target.to == to)
            mapping = {"to": chosen.target, "from": chosen.source}
            if chosen.coercion and target.target.type in CONVERSIONS:
                mapping["type"] = target.target.type
            if target.target.required:
                mapping["required"] = True
            save_step(ctx, request.user, _with_field(ctx.step, mapping, None))
            rows = _rows(ctx)
    proposed = [s for s in suggestions(rows, ctx.record) if s.target not in dismissed]
    return _render_panel(request, ctx, rows=rows, suggestions=proposed, dismissed=dismissed, suggested=True)
