"""Compile-time helper: compiles one piece of a definition and records errors at its field."""

from __future__ import annotations

from typing import Any

from jinja2.exceptions import TemplateSyntaxError

from .conditions import CompiledCondition, compile_condition
from .errors import DefinitionError
from .paths import PathError, compile_path
from .templating import CompiledTemplate, compile_template


class Where:
    def __init__(self, errors: list[DefinitionError], step_id: str | None, prefix: str):
        self.errors = errors
        self.step_id = step_id
        self.prefix = prefix

    def at(self, field: str | int) -> Where:
        suffix = f"[{field}]" if isinstance(field, int) else f".{field}"
        return Where(self.errors, self.step_id, self.prefix + suffix)

    def error(self, field: str | None, message: str) -> None:
        path = f"{self.prefix}.{field}" if field else self.prefix
        self.errors.append(DefinitionError(self.step_id, path, message))

    def template(self, field: str, source: Any) -> CompiledTemplate | None:
        try:
            return compile_template(source)
        except TemplateSyntaxError as exc:
            self.error(field, f"template does not compile: {exc.message} (line {exc.lineno})")
        except RecursionError:  # Jinja's parser recurses once per nesting level
            self.error(field, "template does not compile: it is nested too deeply")
        return None

    def condition(self, field: str, source: Any) -> CompiledCondition | None:
        try:
            return compile_condition(source)
        except TemplateSyntaxError as exc:
            self.error(field, f"condition does not parse: {exc.message}")
        except RecursionError:
            self.error(field, "condition does not parse: it is nested too deeply")
        return None

    def path(self, field: str, source: Any) -> Any:
        try:
            return compile_path(source)
        except PathError as exc:
            self.error(field, str(exc))
        return None
