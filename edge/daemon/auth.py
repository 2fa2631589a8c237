"""App tokens: which namespace a request belongs to (401 without a valid token when tokens are configured)."""

from __future__ import annotations

from fastapi import Request

from edge.agent import DEFAULT_NAMESPACE
from edge.daemon.errors import ApiError
from shared.logging_setup import tenant_var
from shared.tokens import match_token


class AppTokens:
    def __init__(self, api_keys: dict[str, str]) -> None:
        self._tokens = [(token.encode(), namespace) for token, namespace in api_keys.items()]

    @property
    def namespaces(self) -> list[str]:
        return sorted({ns for _, ns in self._tokens}) or [DEFAULT_NAMESPACE]

    def namespace_of(self, request: Request) -> str:
        if not self._tokens:
            return DEFAULT_NAMESPACE
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = match_token(token.strip().encode(), self._tokens) if scheme.lower() == "bearer" and token else None
        if found is None:
            raise ApiError(
                401, "missing or invalid API key: send `Authorization: Bearer <token>`", code="invalid_api_key"
            )
        tenant_var.set(found)  # logs of this request name the app's namespace, never its token
        return found
