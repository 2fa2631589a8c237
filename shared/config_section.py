"""The base of every config section, and the checks sections share."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

# Tenants (cloud) and namespaces (daemon) name folders and appear in logs: keep them plain.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(value: str, kind: str = "name") -> str:
    if not NAME_PATTERN.match(value):
        raise ValueError(f"{kind} '{value}' must be 1-64 letters, digits, '.', '_' or '-', starting alphanumeric")
    return value


def check_namespace(value: str) -> str:
    return check_name(value, "namespace")


def cert_with_key(cert: str, key: str) -> None:
    if bool(cert) != bool(key):
        raise ValueError("tls_cert and tls_key go together")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
