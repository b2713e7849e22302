"""`{{ mapping|get:key }}`: a dict's value by a key held in a variable (templates cannot index)."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    return mapping.get(key) if isinstance(mapping, dict) else None
