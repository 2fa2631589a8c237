"""[edge.*]: the edge agent, one table per package of the request path (local, confidence, cache, routing, ...)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from shared.config.base import Section, SectionTree, cert_with_key, check_name
from shared.config.fleet import EdgeFleetConfig
from shared.model_registry import DEFAULT_EDGE_MODEL, ModelName, resolve_style
from shared.network import channel_target
from shared.prompts import PromptStyle

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
    relation_similarity: float = Field(
        0.6,
        ge=0,
        le=1,
        description="An expert whose table is built from one question template is named only when the question "
        "names one of its subjects and, with that subject masked, is at least this close to the masked template "
        "(so a question about another relation of the same subject goes to the base model).",
    )

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return value if value in (ROUTE, OFF) else check_name(value, "expert name")


class LocalModelConfig(Section):
    """edge/local: the small model that answers on the device."""

    model: ModelName = Field(
        DEFAULT_EDGE_MODEL, description="The local model: one of the models in shared/model_registry.py."
    )
    model_path: str = Field("", description="A GGUF to run instead of `model` (then prompt_style auto is few-shot).")
    n_ctx: int = Field(2048, ge=64, description="Local model context length in tokens.")
    threads: int = Field(0, ge=0, description="llama.cpp threads; 0 uses all cores.")
    max_tokens: int = Field(32, ge=1, description="Default answer length cap.")
    prompt_style: Literal["auto", "few_shot_qa", "chat"] = Field(
        "auto",
        description="How a question becomes a prompt: few-shot Q/A, the model's chat template, or auto (the "
        "rendering recorded for `model` in the model registry, measured to score better).",
    )
    max_local_queue: int = Field(
        64, ge=1, description="Local generations queued at once on the single model context; beyond: 429."
    )

    @property
    def rendering(self) -> PromptStyle:
        """The prompt style questions are rendered with (auto resolved)."""
        return resolve_style(self.prompt_style, self.model, bool(self.model_path))


class ConfidenceConfig(Section):
    """edge/confidence: how the edge scores its own answer, and the threshold it must reach."""

    estimator: Literal["mean_logprob", "min_logprob", "quantile", "margin", "entropy", "learned"] = Field(
        "mean_logprob",
        description="Confidence estimator scoring the edge answer; `learned`: the rule calibrate fits (learned_path).",
    )
    learned_path: str = Field(
        "", description="The learned rule (JSON) `tandem-edge calibrate` wrote, for estimator = learned."
    )
    learned_refit_every: int = Field(
        50,
        ge=0,
        description="Refit the learned rule from this many new labeled drafts of the app's traffic (agreement, "
        "audits), with the calibrated rule as its prior; 0: never.",
    )
    learned_refit_min_s: float = Field(300.0, ge=0, description="At least this long between two refits.")
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
    share_step: float = Field(
        0.01,
        gt=0,
        le=0.1,
        description="How far one decision moves the controller's offset (the first decisions after start step "
        "larger: step * (window / (k + 5)) ** 0.75).",
    )


class CacheConfig(Section):
    """edge/cache: cloud answers kept on the device, found by exact key or by paraphrase."""

    flag_prefix: ClassVar[str] = "cache-"
    enabled: bool = Field(True, description="Keep cacheable cloud answers locally (SQLite).")
    max_entries: int = Field(10_000, ge=1, description="Beyond this, least recently used answers go.")
    max_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="Upper bound on the TTL the cloud suggests.")
    semantic: bool = Field(
        True,
        description="On an exact miss, serve the nearest cached answer of a paraphrase: the same entities, and no "
        "contrast the guard sees (negation, another unit or noun, direction, ordinal, quantifier, operand order).",
    )
    semantic_threshold: float = Field(
        0.9, gt=0, le=1, description="Cosine similarity a semantic hit needs (the floor: audits only raise it)."
    )
    max_error: float = Field(
        0.01,
        gt=0,
        lt=1,
        description="Share of semantic hits allowed to be wrong: audited wrong hits raise the threshold (globally and "
        "for the entry) until the audited error above it is estimated below this.",
    )
    audit_rate: float = Field(
        0.05, ge=0, le=1, description="Share of semantic hits re-asked of the cloud in the background (0: none)."
    )
    audit_per_hour: int = Field(30, ge=0, description="At most this many cache-hit audits in any sliding hour.")
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
    relation_only: bool = Field(
        False,
        description="Compare questions by what they ask, numbers and names masked ('What is the capital of X?'), so "
        "labels of one kind of question reach the next of that kind (re-run calibrate after changing it; "
        "README: Learning from traffic).",
    )
    kernel: Literal["absolute", "relative"] = Field(
        "absolute",
        description="How a neighbour's similarity s becomes its weight: exp(sharpness * (s - 1)) (absolute) or "
        "exp(sharpness * (s - s_nearest)) (relative: the nearest labeled question always counts fully).",
    )
    sharpness: float = Field(10.0, gt=0, description="How fast a neighbour's weight falls with its similarity.")
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
    agreement_labels: bool = Field(
        True,
        description="Label each escalated draft by whether it says what the cloud answered, and learn from it.",
    )
    audit_rate: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Share of the answers the policy keeps local that are re-asked of the cloud in the background "
        "and labeled (audits against selection bias: kept answers are otherwise never checked).",
    )
    audit_per_hour: int = Field(60, ge=0, description="At most this many audits in any hour (their cloud cost).")
    agreement_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="What one label from the cloud's answer (agreement, audit) counts against a calibration or "
        "feedback label: the cloud is a teacher, not an oracle.",
    )


class GuardConfig(Section):
    """edge/pipeline/guard: fall back to random escalation when the cloud's labels say the policy is worse."""

    flag_prefix: ClassVar[str] = "guard-"
    enabled: bool = Field(
        True,
        description="Watch the policy's decisions through the cloud's labels (agreement, audits) and escalate at "
        "random, at the namespace's share, while they say it escalates worse than a coin (README: Learning from "
        "traffic).",
    )
    min_labels: int = Field(20, ge=1, description="Labels on each side (escalated, kept) before the guard judges.")
    window: int = Field(200, ge=1, description="Recent labels per side the guard judges on.")
    z: float = Field(1.0, ge=0, description="Standard deviations of confidence the guard needs to switch either way.")
    warmup_audit_rate: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Audit rate of kept answers until the kept side has min_labels labels (within the hourly "
        "audit budget), so the guard can judge early.",
    )

    @model_validator(mode="after")
    def _judgeable(self) -> GuardConfig:
        if self.min_labels > self.window:
            raise ValueError(f"min_labels ({self.min_labels}) must not exceed window ({self.window})")
        return self


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
    timeout_s: float = Field(20.0, gt=0, description="Deadline for one escalation, before the per-token allowance.")
    s_per_token: float = Field(
        0.5,
        ge=0,
        description="Deadline added per requested token: a long answer from a slow cloud streams to its "
        "end, a stream slower than this per token is cut.",
    )
    breaker_failures: int = Field(3, ge=1, description="Consecutive cloud failures that open the circuit.")
    breaker_reset_s: float = Field(30.0, gt=0, description="How long the circuit stays open before a trial call.")
    verify_draft: Literal["off", "exact", "lenient"] = Field(
        "exact",
        description="An escalation with a draft asks the cloud to verify it: keep the prefix the cloud agrees with "
        "and generate only the rest. exact: the answer is the cloud's own greedy answer (temperature 0); lenient: "
        "keeps draft tokens the cloud finds at least verify_alpha times as likely as its own choice; off.",
    )
    verify_alpha: float = Field(
        0.3, gt=0, le=1, description="lenient verification: how likely, against the cloud's top token, a kept token is."
    )

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


class EdgeConfig(SectionTree):
    """The edge agent, one table per package of the request path ([edge.local], [edge.cache], ...)."""

    table: ClassVar[str] = "edge"

    local: LocalModelConfig = Field(default_factory=LocalModelConfig)
    confidence: ConfidenceConfig = Field(default_factory=ConfidenceConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    guard: GuardConfig = Field(default_factory=GuardConfig)
    uplink: UplinkConfig = Field(default_factory=UplinkConfig)
    experts: ExpertsConfig = Field(default_factory=ExpertsConfig)
    fleet: EdgeFleetConfig = Field(default_factory=EdgeFleetConfig)
