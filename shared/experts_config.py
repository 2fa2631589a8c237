"""[edge.experts]: which cloud memory expert (LoRA adapter) the edge names when it escalates."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from shared.config_section import Section, check_name

ROUTE, OFF = "route", "off"


class ExpertsConfig(Section):
    flag_prefix: ClassVar[str] = "experts-"
    mode: str = Field(
        ROUTE,
        description="route: the cloud expert whose facts are nearest the question (none below min_similarity); "
        "off: always the base model; any other value: always that expert (e.g. a merged adapter).",
    )
    min_similarity: float = Field(
        0.6, ge=0, le=1, description="Below this similarity to every expert's facts, ask the base model."
    )

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return value if value in (ROUTE, OFF) else check_name(value, "expert name")
