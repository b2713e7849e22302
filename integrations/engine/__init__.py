"""The pure flow engine: compile a flow definition into a plan and run it on one record.

No Django, no database, no network: side effects go through an `Effects` object that the
runtime (integrations.runs) implements, or `DryRunEffects` for test-runs. Analyst templates and
conditions run in a sandbox whose cost is bounded (limits.py; the runtime sets the limits at
start-up with `configure_template_limits`)."""

from .compile import compile_flow, validate_definition
from .dryrun import DryRunEffects
from .effects import PENDING, ApprovalDecision, ApprovalRequest, DeliveryRequest, DeliveryResult, Effects
from .errors import DefinitionError, DefinitionInvalid, EffectError, EngineError, TemplateFailure
from .limits import TemplateLimitExceeded, TemplateLimits
from .limits import configure_from as configure_template_limits
from .plan import CompiledStep, Plan
from .results import Outcome, StepResult
from .runner import run

__all__ = [
    "PENDING",
    "ApprovalDecision",
    "ApprovalRequest",
    "CompiledStep",
    "DefinitionError",
    "DefinitionInvalid",
    "DeliveryRequest",
    "DeliveryResult",
    "DryRunEffects",
    "EffectError",
    "Effects",
    "EngineError",
    "Outcome",
    "Plan",
    "StepResult",
    "TemplateFailure",
    "TemplateLimitExceeded",
    "TemplateLimits",
    "compile_flow",
    "configure_template_limits",
    "run",
    "validate_definition",
]
