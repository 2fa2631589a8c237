"""[daemon] and [resources]: the edge daemon's HTTP API and how device state moves its threshold."""

from __future__ import annotations

from pydantic import Field, model_validator

from shared.config.base import Section, check_namespace
from shared.config.privacy import PrivacyConfig


class DaemonConfig(Section):
    host: str = Field("127.0.0.1", description="Address the HTTP API binds to (loopback: only local apps).")
    port: int = Field(8080, ge=0, le=65535, description="HTTP port.")
    model_name: str = Field("tandem", description="Model id apps use in requests and see in /v1/models.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Larger request bodies get 413.")
    max_input_chars: int = Field(20_000, ge=1, description="Longer prompts/messages get 400 before tokenizing.")
    max_header_bytes: int = Field(32_768, ge=1024, description="Larger request headers (all together) get 431.")
    outbox_interval_s: float = Field(5.0, gt=0, description="How often queued degraded queries are re-asked.")
    outbox_batch: int = Field(16, ge=1, description="Queued queries re-asked per pass.")
    sensor_interval_s: float = Field(5.0, gt=0, description="How often the device state is sampled.")
    api_keys: dict[str, str] = Field(
        default_factory=dict,
        description="Bearer token -> app namespace. Set: every /v1 call needs a token, and each namespace has its "
        "own caches, outcomes, feedback and outbox. Empty: one shared namespace (loopback only, unless insecure).",
    )
    insecure: bool = Field(False, description="Allow serving a non-loopback address without app tokens.")
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)

    @model_validator(mode="after")
    def _namespaces(self) -> DaemonConfig:
        for token, namespace in self.api_keys.items():
            check_namespace(namespace)
            if len(token) < 16:
                raise ValueError(f"api_keys: the token for namespace '{namespace}' is shorter than 16 characters")
        return self


class ResourceConfig(Section):
    """How device state shifts the escalation threshold (higher threshold = escalate more)."""

    low_battery_percent: float = Field(20.0, ge=0, le=100, description="On battery below this: escalate more.")
    low_battery_shift: float = Field(0.2, ge=-1, le=1, description="Threshold shift on low battery.")
    busy_cpu_percent: float = Field(90.0, ge=0, le=100, description="CPU load above this: escalate more.")
    busy_cpu_shift: float = Field(0.1, ge=-1, le=1, description="Threshold shift when the CPU is saturated.")
    low_memory_percent: float = Field(10.0, ge=0, le=100, description="Available memory below this: escalate more.")
    low_memory_shift: float = Field(0.1, ge=-1, le=1, description="Threshold shift when memory is low.")
    hot_celsius: float = Field(85.0, description="Temperature above this: escalate more.")
    hot_shift: float = Field(0.1, ge=-1, le=1, description="Threshold shift when the device is hot.")
