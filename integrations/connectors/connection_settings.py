"""What a connector reads from a configured connection.

Connections (the database rows, integrations.connections) sit above connectors, so connectors
never import them: they accept any object with these attributes. The Connection model has
them; tests pass a plain namespace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class ConnectionSettings(Protocol):
    pk: Any
    name: str
    kind: str
    base_url: str
    allowed_hosts: Sequence[str] | None
    config: dict[str, Any] | None

    @property
    def has_credentials(self) -> bool: ...

    def get_credentials(self) -> dict[str, Any]: ...
