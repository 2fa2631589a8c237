"""[cloud.*]: the gRPC service (`tandem-cloud serve`), one table per concern.

[cloud] the server itself; [cloud.engine] the model and its engine; [cloud.limits] what one request and the
server may take; [cloud.auth] and [cloud.tls] who may call; [cloud.tenants] per-tenant quotas; [cloud.ray]
engine replicas on Ray Serve; [cloud.experts] LoRA memory experts. Flags keep their short names
(`--backend`, `--tls-cert`, `--tenant-burst`, `--replicas`).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from shared.config.base import Section, SectionTree, cert_with_key, check_name
from shared.config.fleet import CloudFleetConfig
from shared.model_registry import DEFAULT_CLOUD_MODEL, ModelName, resolve_style
from shared.prompts import PromptStyle


class EngineConfig(Section):
    """The model and the engine that serves it."""

    backend: Literal["vllm", "llamacpp", "ray"] = Field(
        "vllm",
        description="Generation engine: vllm (production), llamacpp (hosts without vLLM), or ray (engine "
        "replicas on Ray Serve, each running [cloud.ray] replica_backend).",
    )
    known_model: ModelName = Field(
        DEFAULT_CLOUD_MODEL,
        description="The served model when model / gguf_path are empty, from shared/model_registry.py (vLLM "
        "needs it prepared by `tandem-cloud prepare-model`; llama.cpp runs its GGUF).",
    )
    model: str = Field("", description="vLLM: a Hugging Face model folder to serve instead of known_model.")
    gguf_path: str = Field("", description="llama.cpp: a GGUF file to serve instead of known_model.")
    prompt_style: Literal["auto", "few_shot_qa", "chat"] = Field(
        "auto",
        description="How a bare question (the edge's escalations) is put to the model: few-shot Q/A, its chat "
        "template, or auto (the rendering recorded for known_model; few-shot for a custom model).",
    )
    served_model_id: str = Field("", description="Model id reported to clients; empty derives it from the model path.")
    max_model_len: int = Field(2048, ge=16, description="Context length the engine allocates for.")
    kv_cache_gib: int = Field(1, ge=1, description="vLLM on CPU: KV-cache size (VLLM_CPU_KVCACHE_SPACE).")
    gpu_memory_utilization: float = Field(
        0.85, gt=0, le=1, description="vLLM on GPU: fraction of device memory the engine may take."
    )
    dtype: str = Field(
        "auto",
        description="Engine dtype (auto, bfloat16, float16, float32); on a CPU, auto is bfloat16 only where the CPU "
        "computes it natively (avx512_bf16, amx_bf16), else float32.",
    )
    data_parallel_size: int = Field(
        1, ge=1, description="vLLM: engine replicas over this host's accelerators (vLLM data parallel)."
    )
    threads: int = Field(0, ge=0, description="llama.cpp: CPU threads; 0 uses all cores.")
    seed: int = Field(0, description="Engine seed for reproducible sampling.")

    @property
    def rendering(self) -> PromptStyle:
        """The prompt style bare questions are rendered with (auto resolved)."""
        return resolve_style(self.prompt_style, self.known_model, bool(self.model or self.gguf_path))


class LimitsConfig(Section):
    """What one request may ask and how much the server takes at once."""

    max_output_tokens: int = Field(512, ge=1, description="Cap on a request's max_tokens.")
    max_concurrent_requests: int = Field(
        16, ge=1, description="Streams one engine serves at once; beyond them all, RESOURCE_EXHAUSTED."
    )
    max_top_logprobs: int = Field(20, ge=0, le=20, description="Cap on alternatives per token.")
    cache_ttl_seconds: int = Field(
        7 * 24 * 3600, ge=0, description="TTL the server suggests to clients caching an answer."
    )
    cacheable_max_temperature: float = Field(
        0.0, ge=0.0, description="Answers sampled above this temperature are marked not cacheable."
    )


class AuthConfig(Section):
    """Who may call: API keys (hashed per tenant) and certificate identities."""

    api_keys: list[str] = Field(
        default_factory=list,
        description="Development bearer tokens (tenant 'default'), best passed by env var; for devices use "
        "`tandem-cloud keys add` (stored hashed). Auth is off only when neither these, the key file nor mTLS is set.",
    )
    keys_file: str = Field("", description="Hashed per-tenant API keys. Empty: <data_dir>/cloud/keys.json.")
    mtls_tenant_from_cert: bool = Field(
        True, description="With mTLS, a call without an API key is the tenant named by its certificate's CN."
    )


class TlsConfig(Section):
    """TLS and mTLS of the gRPC port."""

    flag_prefix: ClassVar[str] = "tls-"
    cert: str = Field("", description="Server certificate chain (PEM); with key turns TLS on.")
    key: str = Field("", description="Server private key (PEM).")
    client_ca: str = Field("", description="CA for client certificates (PEM): turns mTLS on (required).")

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        cert_with_key(self.cert, self.key)
        if self.client_ca and not self.cert:
            raise ValueError("client_ca (mTLS) needs cert and key")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.cert)


class TenantQuotaConfig(Section):
    """What each tenant may use (0: no per-tenant limit)."""

    flag_prefix: ClassVar[str] = "tenant-"
    requests_per_s: float = Field(0.0, ge=0, description="Per-tenant request rate (token bucket); 0: none.")
    burst: int = Field(0, ge=0, description="Per-tenant burst above the rate; 0: twice the rate.")
    max_streams: int = Field(0, ge=0, description="Per-tenant concurrent streams; 0: only the server cap.")


class RayConfig(Section):
    """Engine replicas on Ray Serve (backend = "ray")."""

    replica_backend: Literal["vllm", "llamacpp"] = Field("vllm", description="Engine in each replica.")
    replicas: int = Field(1, ge=1, description="Engine replicas (fixed; see min/max_replicas).")
    min_replicas: int = Field(0, ge=0, description="Autoscaling floor; with max_replicas turns it on.")
    max_replicas: int = Field(0, ge=0, description="Autoscaling ceiling; 0: a fixed replica count.")
    target_ongoing_requests: float = Field(8.0, gt=0, description="Autoscaling: streams per replica it aims for.")
    upscale_delay_s: float = Field(10.0, ge=0, description="Load must last this long to add a replica.")
    downscale_delay_s: float = Field(120.0, ge=0, description="Idleness must last this long to remove a replica.")
    ray_address: str = Field("", description="Cluster to join (ray://… or auto); empty starts Ray here.")
    replica_cpus: float = Field(1.0, ge=0, description="CPUs Ray reserves for each replica.")
    replica_gpus: float = Field(0.0, ge=0, description="GPUs Ray reserves for each replica.")

    @model_validator(mode="after")
    def _replica_range(self) -> RayConfig:
        if self.max_replicas and not 1 <= max(self.min_replicas, 1) <= self.max_replicas:
            raise ValueError(f"min_replicas={self.min_replicas} must not exceed max_replicas={self.max_replicas}")
        if self.min_replicas and not self.max_replicas:
            raise ValueError("min_replicas needs max_replicas (autoscaling between the two)")
        return self

    @property
    def autoscaling(self) -> bool:
        return self.max_replicas > 0

    @property
    def replica_ceiling(self) -> int:
        """The most replicas that can run at once (sizes the front door's stream cap)."""
        return self.max_replicas if self.autoscaling else self.replicas


class CloudExpertsConfig(Section):
    """LoRA memory experts the vLLM engine serves."""

    serve: list[str] = Field(
        default_factory=list,
        description="Memory experts (LoRA adapters under <data_dir>/experts/) to serve; ['*']: all.",
        json_schema_extra={"flag": "experts"},
    )
    max_loras: int = Field(4, ge=1, description="Different experts batched in one engine step.")

    @field_validator("serve")
    @classmethod
    def _expert_names(cls, names: list[str]) -> list[str]:
        if "*" in names and names != ["*"]:
            raise ValueError("'*' (all) stands alone")
        return names if names == ["*"] else [check_name(n, "expert name") for n in names]


class CloudConfig(SectionTree):
    """The gRPC server: where it listens and how it stops."""

    table: ClassVar[str] = "cloud"

    host: str = Field("127.0.0.1", description="Address the gRPC server binds to.")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0 picks a free one).")
    insecure: bool = Field(False, description="Allow plaintext gRPC on a non-loopback address (logged as a warning).")
    loopback_port: int = Field(
        0, ge=0, le=65535, description="Also serve plaintext on 127.0.0.1 at this port (sidecars, probes); 0: off."
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="Prometheus metrics (fleet records, routers served) on 127.0.0.1 here; 0: off."
    )
    grace_period_s: float = Field(
        10.0, ge=0.0, description="On SIGTERM, how long in-flight streams may run before being cut."
    )
    engine: EngineConfig = Field(default_factory=EngineConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    tls: TlsConfig = Field(default_factory=TlsConfig)
    tenants: TenantQuotaConfig = Field(default_factory=TenantQuotaConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    experts: CloudExpertsConfig = Field(default_factory=CloudExpertsConfig)
    fleet: CloudFleetConfig = Field(default_factory=CloudFleetConfig)
