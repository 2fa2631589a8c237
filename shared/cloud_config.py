"""[cloud]: the gRPC service, its engine, TLS, tenants and quotas (`tandem-cloud serve`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from shared.config_section import Section, cert_with_key, check_name


class CloudConfig(Section):
    host: str = Field("127.0.0.1", description="Address the gRPC server binds to.")
    port: int = Field(50051, ge=0, le=65535, description="gRPC port (0 picks a free one).")
    backend: Literal["vllm", "llamacpp", "ray"] = Field(
        "vllm",
        description="Generation engine: vllm (production), llamacpp (hosts without vLLM), or ray (engine "
        "replicas on Ray Serve, each running replica_backend).",
    )
    model: str = Field(
        "",
        description="vllm backend: Hugging Face model folder or hub id. Empty: the prepared default "
        "(Gemma-3-270M converted by `tandem-cloud prepare-model`).",
    )
    gguf_path: str = Field("", description="llamacpp backend: GGUF file. Empty: the packaged Gemma-3-270M Q4_K_M.")
    served_model_id: str = Field("", description="Model id reported to clients; empty derives it from the model path.")
    max_model_len: int = Field(2048, ge=16, description="Context length the engine allocates for.")
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
    api_keys: list[str] = Field(
        default_factory=list,
        description="Development bearer tokens (tenant 'default'), best passed by env var; for devices use "
        "`tandem-cloud keys add` (stored hashed). Auth is off only when neither these, the key file nor mTLS is set.",
    )
    keys_file: str = Field("", description="Hashed per-tenant API keys. Empty: <data_dir>/cloud/keys.json.")
    tls_cert: str = Field("", description="Server certificate chain (PEM); with tls_key turns TLS on.")
    tls_key: str = Field("", description="Server private key (PEM).")
    tls_client_ca: str = Field("", description="CA for client certificates (PEM): turns mTLS on (required).")
    mtls_tenant_from_cert: bool = Field(
        True, description="With mTLS, a call without an API key is the tenant named by its certificate's CN."
    )
    insecure: bool = Field(False, description="Allow plaintext gRPC on a non-loopback address (logged as a warning).")
    loopback_port: int = Field(
        0, ge=0, le=65535, description="Also serve plaintext on 127.0.0.1 at this port (sidecars, probes); 0: off."
    )
    tenant_requests_per_s: float = Field(0.0, ge=0, description="Per-tenant request rate (token bucket); 0: none.")
    tenant_burst: int = Field(0, ge=0, description="Per-tenant burst above the rate; 0: twice the rate.")
    tenant_max_streams: int = Field(0, ge=0, description="Per-tenant concurrent streams; 0: only the server cap.")
    grace_period_s: float = Field(
        10.0, ge=0.0, description="On SIGTERM, how long in-flight streams may run before being cut."
    )
    kv_cache_gib: int = Field(1, ge=1, description="vLLM CPU KV-cache size (VLLM_CPU_KVCACHE_SPACE).")
    gpu_memory_utilization: float = Field(
        0.85, gt=0, le=1, description="vLLM on GPU: fraction of device memory the engine may take."
    )
    dtype: str = Field("auto", description="Engine dtype (auto, bfloat16, float16, float32).")
    data_parallel_size: int = Field(
        1, ge=1, description="vllm backend: engine replicas over this host's accelerators (vLLM data parallel)."
    )
    threads: int = Field(0, ge=0, description="llamacpp backend: CPU threads; 0 uses all cores.")
    experts: list[str] = Field(
        default_factory=list,
        description="vllm backend: memory experts (LoRA adapters under <data_dir>/experts/) to serve; ['*']: all.",
    )
    max_loras: int = Field(4, ge=1, description="vllm backend: different experts batched in one engine step.")
    replica_backend: Literal["vllm", "llamacpp"] = Field("vllm", description="ray backend: engine in each replica.")
    replicas: int = Field(1, ge=1, description="ray backend: engine replicas (fixed; see min/max_replicas).")
    min_replicas: int = Field(0, ge=0, description="ray backend: autoscaling floor; with max_replicas turns it on.")
    max_replicas: int = Field(0, ge=0, description="ray backend: autoscaling ceiling; 0: a fixed replica count.")
    target_ongoing_requests: float = Field(
        8.0, gt=0, description="ray backend autoscaling: streams per replica it aims for."
    )
    upscale_delay_s: float = Field(10.0, ge=0, description="ray backend: load must last this long to add a replica.")
    downscale_delay_s: float = Field(
        120.0, ge=0, description="ray backend: idleness must last this long to remove a replica."
    )
    ray_address: str = Field("", description="ray backend: cluster to join (ray://… or auto); empty starts Ray here.")
    replica_cpus: float = Field(1.0, ge=0, description="ray backend: CPUs Ray reserves for each replica.")
    replica_gpus: float = Field(0.0, ge=0, description="ray backend: GPUs Ray reserves for each replica.")
    seed: int = Field(0, description="Engine seed for reproducible sampling.")

    @model_validator(mode="after")
    def _tls_pair(self) -> CloudConfig:
        cert_with_key(self.tls_cert, self.tls_key)
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("tls_client_ca (mTLS) needs tls_cert and tls_key")
        return self

    @field_validator("experts")
    @classmethod
    def _expert_names(cls, names: list[str]) -> list[str]:
        if "*" in names and names != ["*"]:
            raise ValueError("experts: '*' (all) stands alone")
        return names if names == ["*"] else [check_name(n, "expert name") for n in names]

    @model_validator(mode="after")
    def _replica_range(self) -> CloudConfig:
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
