"""One module per step kind; each has `compile_step(raw, where)` and `execute(step, ctx, effects)`,
and the kinds that can suspend (approve, deliver, batch) also `resume(step, ctx, outcome)`."""

from types import ModuleType

from . import approve, batch, deliver, lookup, map, route, validate

KINDS: dict[str, ModuleType] = {
    "map": map,
    "route": route,
    "lookup": lookup,
    "validate": validate,
    "approve": approve,
    "deliver": deliver,
    "batch": batch,
}
