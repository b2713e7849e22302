"""{% load observability %} … {{ run|trace_id_of }}: the run's trace id (32 hex digits), to
show on the run page and search for in the tracing back end."""

from django import template

from integrations import tracing

register = template.Library()


@register.filter
def trace_id_of(run) -> str:
    return tracing.trace_id_of(run)
