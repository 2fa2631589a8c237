"""[cost] and [logging]: settings both sides read."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config.base import Section


class CostConfig(Section):
    cloud_input_per_1k: float = Field(0.0005, ge=0, description="Cloud price per 1,000 prompt tokens.")
    cloud_output_per_1k: float = Field(0.0015, ge=0, description="Cloud price per 1,000 generated tokens.")
    edge_per_second: float = Field(0.00002, ge=0, description="Edge cost per second of local compute (energy, wear).")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["json", "text"] = Field("json", description="json: one object per line; text: human.")
