"""The base of every config section, and the checks sections share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

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


def _sections(model: type[BaseModel]) -> Iterator[tuple[str, type[BaseModel]]]:
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield name, field.annotation


def moved_key(model: type[BaseModel], table: str, key: str) -> str | None:
    """Where a key of an older, flat `[table]` lives now: the sub-table field it or its flag name matches
    ("threshold" -> "[edge.confidence] threshold", "tls_cert" -> "[cloud.tls] cert"); None if none does."""
    for name, section in _sections(model):
        prefix = getattr(section, "flag_prefix", "").replace("-", "_")
        for sub, field in section.model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            if key in (sub, prefix + sub, str(extra.get("flag", "")).replace("-", "_")):
                return f"[{table}.{name}] {sub}"
    return None


def refuse_moved_keys(model: type[BaseModel], table: str, data: Any) -> Any:
    """A before-validator's body: an older flat key is refused, naming the sub-table key that replaced it."""
    if isinstance(data, dict):
        sections = dict(_sections(model))
        for key, value in data.items():
            flat = key not in model.model_fields or (key in sections and not isinstance(value, dict | BaseModel))
            if flat and (moved := moved_key(model, table, key)) is not None:
                raise ValueError(f"[{table}] {key} has moved: set {moved} instead")
    return data


class SectionTree(Section):
    """A table made of sub-tables (`[edge]`, `[cloud]`): an older flat key is refused, naming its new place."""

    table: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _refuse_flat_keys(cls, data: Any) -> Any:
        return refuse_moved_keys(cls, cls.table, data)
