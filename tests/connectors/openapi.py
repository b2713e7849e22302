"""Validate requests and responses against a vendor's own OpenAPI 3.1 document.

The vendor's document is read at test time from the folder named by SWITCHBOARD_VENDOR_SPECS
(BambooHR's is `specs/public.yaml` of the MIT-licensed BambooHR/bhr-api-python repository,
stored there as `bamboohr/bamboohr-public-openapi.yaml`); it is never copied into the repo. Schemas are JSON Schema
2020-12 and `$ref`s resolve against the whole document through a `referencing` registry.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPO = Path(__file__).resolve().parents[2]
# CI lays shared/ beside the clone; SWITCHBOARD_VENDOR_SPECS points elsewhere when it is not.
SPECS = Path(os.environ.get("SWITCHBOARD_VENDOR_SPECS", REPO.parent / "shared" / "vendor-specs"))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class OpenAPIDocument:
    def __init__(self, path: Path):
        self.uri = f"urn:openapi:{path.name}"
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.doc = yaml.load(path.read_text(), Loader=loader)  # noqa: S506 - a safe loader
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.uri, resource)

    def validator(self, *pointer: str) -> jsonschema.Draft202012Validator:
        schema = {"$ref": f"{self.uri}#/{_pointer(*pointer)}"}
        return jsonschema.Draft202012Validator(
            schema, registry=self.registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )

    def operation(self, path: str, method: str) -> dict[str, Any]:
        return self.doc["paths"][path][method.lower()]

    def validate_response(self, path: str, method: str, status: int, body: Any) -> None:
        """Raise if `status` is not declared, or the body does not match its JSON schema."""
        operation = self.operation(path, method)
        responses = operation["responses"]
        if status == 401 and "401" not in responses and operation.get("security"):
            # Operations with security requirements can always refuse credentials; the
            # document declares 401 on some of them only, always without a body.
            assert body in (None, b"", ""), f"{method} {path} 401: expected no body, got {body!r}"
            return
        assert str(status) in responses, f"{method} {path}: status {status} not declared ({sorted(responses)})"
        content = responses[str(status)].get("content", {})
        if "application/json" in content and "schema" in content["application/json"]:
            pointer = ("paths", path, method.lower(), "responses", str(status), "content", "application/json", "schema")
            self.validator(*pointer).validate(body)
        else:
            assert body in (None, b"", ""), f"{method} {path} {status}: spec declares no body, got {body!r}"

    def validate_request_body(self, path: str, method: str, body: Any) -> None:
        pointer = ("paths", path, method.lower(), "requestBody", "content", "application/json", "schema")
        self.validator(*pointer).validate(body)

    def validate_query(self, path: str, method: str, params: list[tuple[str, str]]) -> None:
        """Check every query parameter is declared and its value fits the schema (deepObject aware)."""
        declared = {p["name"]: p for p in self._parameters(path, method) if p.get("in") == "query"}
        grouped: dict[str, Any] = {}
        for name, value in params:
            base, _, rest = name.partition("[")
            assert base in declared, f"{method} {path}: query parameter {name!r} is not in the spec"
            if rest:
                grouped.setdefault(base, {})[rest.rstrip("]").removesuffix("][")] = value
            else:
                grouped[base] = value
        for name, param in declared.items():
            if param.get("required"):
                assert name in grouped, f"{method} {path}: required query parameter {name!r} missing"
            if name in grouped:
                self._check_param(param, grouped[name])

    def _parameters(self, path: str, method: str) -> list[dict[str, Any]]:
        out = []
        for p in self.operation(path, method).get("parameters", []):
            if "$ref" in p:
                node: Any = self.doc
                for part in p["$ref"].lstrip("#/").split("/"):
                    node = node[part.replace("~1", "/").replace("~0", "~")]
                p = node
            out.append(p)
        return out

    def _check_param(self, param: dict[str, Any], value: Any) -> None:
        # Query strings are untyped: a value passes a branch if it fits as given or
        # after coercing a numeric string to a number (the server-side reading).
        schema = self._resolve(param["schema"])
        branches = schema.get("allOf", [schema])
        for branch in branches:
            branch = self._resolve(branch)
            if isinstance(value, dict):
                for key, raw in value.items():
                    prop = self._resolve(branch.get("properties", {}).get(key, {}))
                    items = str(raw).split(",") if prop.get("type") == "array" else [raw]
                    for item in items:
                        target = self._resolve(prop.get("items", {})) if prop.get("type") == "array" else prop
                        self._check_scalar(target, item, f"{param['name']}[{key}]")
            elif branch.get("type") == "array":
                for item in str(value).split(","):
                    self._check_scalar(self._resolve(branch.get("items", {})), item, param["name"])
            else:
                self._check_scalar(branch, value, param["name"])

    def _check_scalar(self, schema: dict[str, Any], raw: str, label: str) -> None:
        candidates: list[Any] = [raw]
        with contextlib.suppress(ValueError):
            candidates.append(json.loads(raw))
        errors = []
        for candidate in candidates:
            try:
                jsonschema.Draft202012Validator(schema).validate(candidate)
                return
            except jsonschema.ValidationError as exc:
                errors.append(exc.message)
        raise AssertionError(f"query parameter {label}={raw!r}: {errors}")

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def validate_webhook(self, event: str, body: Any) -> None:
        pointer = ("webhooks", event, "post", "requestBody", "content", "application/json", "schema")
        self.validator(*pointer).validate(body)


@functools.cache
def _bamboohr_document(path: Path) -> OpenAPIDocument:
    return OpenAPIDocument(path)


def bamboohr() -> OpenAPIDocument:
    path = SPECS / "bamboohr" / "bamboohr-public-openapi.yaml"
    if not path.is_file():  # a clone without the vendor documents: say so instead of erroring
        pytest.skip(f"BambooHR's OpenAPI document is not at {path}; set SWITCHBOARD_VENDOR_SPECS")
    return _bamboohr_document(path)
