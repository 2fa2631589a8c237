from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FleetShare(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FLEET_SHARE_OFF: _ClassVar[FleetShare]
    FLEET_SHARE_EMBEDDINGS: _ClassVar[FleetShare]
    FLEET_SHARE_TEXT: _ClassVar[FleetShare]

class FinishReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINISH_REASON_UNSPECIFIED: _ClassVar[FinishReason]
    FINISH_REASON_STOP: _ClassVar[FinishReason]
    FINISH_REASON_LENGTH: _ClassVar[FinishReason]
    FINISH_REASON_ABORT: _ClassVar[FinishReason]
FLEET_SHARE_OFF: FleetShare
FLEET_SHARE_EMBEDDINGS: FleetShare
FLEET_SHARE_TEXT: FleetShare
FINISH_REASON_UNSPECIFIED: FinishReason
FINISH_REASON_STOP: FinishReason
FINISH_REASON_LENGTH: FinishReason
FINISH_REASON_ABORT: FinishReason

class FleetLabel(_message.Message):
    __slots__ = ("question_embedding", "embedder", "question", "edge_correct", "cloud_correct", "created", "label_id", "edge_model", "source")
    QUESTION_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    EMBEDDER_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    EDGE_CORRECT_FIELD_NUMBER: _ClassVar[int]
    CLOUD_CORRECT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    LABEL_ID_FIELD_NUMBER: _ClassVar[int]
    EDGE_MODEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    question_embedding: _containers.RepeatedScalarFieldContainer[float]
    embedder: str
    question: str
    edge_correct: float
    cloud_correct: float
    created: float
    label_id: str
    edge_model: str
    source: str
    def __init__(self, question_embedding: _Optional[_Iterable[float]] = ..., embedder: _Optional[str] = ..., question: _Optional[str] = ..., edge_correct: _Optional[float] = ..., cloud_correct: _Optional[float] = ..., created: _Optional[float] = ..., label_id: _Optional[str] = ..., edge_model: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class LabelBatch(_message.Message):
    __slots__ = ("device", "labels")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    device: str
    labels: _containers.RepeatedCompositeFieldContainer[FleetLabel]
    def __init__(self, device: _Optional[str] = ..., labels: _Optional[_Iterable[_Union[FleetLabel, _Mapping]]] = ...) -> None: ...

class LabelAck(_message.Message):
    __slots__ = ("accepted", "recorded")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    recorded: bool
    def __init__(self, accepted: _Optional[int] = ..., recorded: _Optional[bool] = ...) -> None: ...

class FleetRouterRequest(_message.Message):
    __slots__ = ("since_version", "device")
    SINCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    since_version: int
    device: str
    def __init__(self, since_version: _Optional[int] = ..., device: _Optional[str] = ...) -> None: ...

class FleetRouter(_message.Message):
    __slots__ = ("version", "manifest", "signature", "payload")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    version: int
    manifest: bytes
    signature: bytes
    payload: bytes
    def __init__(self, version: _Optional[int] = ..., manifest: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., payload: _Optional[bytes] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: str
    content: str
    def __init__(self, role: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ChatConversation(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class SamplingParams(_message.Message):
    __slots__ = ("max_tokens", "temperature", "top_p", "stop", "seed")
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    max_tokens: int
    temperature: float
    top_p: float
    stop: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    def __init__(self, max_tokens: _Optional[int] = ..., temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., stop: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ...) -> None: ...

class EdgeContext(_message.Message):
    __slots__ = ("draft_answer", "confidence", "estimator", "edge_model", "fleet_share", "question_embedding", "embedder", "draft_cut_short")
    DRAFT_ANSWER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATOR_FIELD_NUMBER: _ClassVar[int]
    EDGE_MODEL_FIELD_NUMBER: _ClassVar[int]
    FLEET_SHARE_FIELD_NUMBER: _ClassVar[int]
    QUESTION_EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    EMBEDDER_FIELD_NUMBER: _ClassVar[int]
    DRAFT_CUT_SHORT_FIELD_NUMBER: _ClassVar[int]
    draft_answer: str
    confidence: float
    estimator: str
    edge_model: str
    fleet_share: FleetShare
    question_embedding: _containers.RepeatedScalarFieldContainer[float]
    embedder: str
    draft_cut_short: bool
    def __init__(self, draft_answer: _Optional[str] = ..., confidence: _Optional[float] = ..., estimator: _Optional[str] = ..., edge_model: _Optional[str] = ..., fleet_share: _Optional[_Union[FleetShare, str]] = ..., question_embedding: _Optional[_Iterable[float]] = ..., embedder: _Optional[str] = ..., draft_cut_short: _Optional[bool] = ...) -> None: ...

class GenerateRequest(_message.Message):
    __slots__ = ("request_id", "model", "prompt", "chat", "question", "sampling", "top_logprobs", "edge_context", "expert", "verify_draft")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    CHAT_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    TOP_LOGPROBS_FIELD_NUMBER: _ClassVar[int]
    EDGE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXPERT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_DRAFT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    model: str
    prompt: str
    chat: ChatConversation
    question: str
    sampling: SamplingParams
    top_logprobs: int
    edge_context: EdgeContext
    expert: str
    verify_draft: DraftVerification
    def __init__(self, request_id: _Optional[str] = ..., model: _Optional[str] = ..., prompt: _Optional[str] = ..., chat: _Optional[_Union[ChatConversation, _Mapping]] = ..., question: _Optional[str] = ..., sampling: _Optional[_Union[SamplingParams, _Mapping]] = ..., top_logprobs: _Optional[int] = ..., edge_context: _Optional[_Union[EdgeContext, _Mapping]] = ..., expert: _Optional[str] = ..., verify_draft: _Optional[_Union[DraftVerification, _Mapping]] = ...) -> None: ...

class DraftVerification(_message.Message):
    __slots__ = ("mode", "alpha")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OFF: _ClassVar[DraftVerification.Mode]
        EXACT: _ClassVar[DraftVerification.Mode]
        LENIENT: _ClassVar[DraftVerification.Mode]
    OFF: DraftVerification.Mode
    EXACT: DraftVerification.Mode
    LENIENT: DraftVerification.Mode
    MODE_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    mode: DraftVerification.Mode
    alpha: float
    def __init__(self, mode: _Optional[_Union[DraftVerification.Mode, str]] = ..., alpha: _Optional[float] = ...) -> None: ...

class Verification(_message.Message):
    __slots__ = ("mode", "draft_tokens", "accepted_tokens", "stopped")
    MODE_FIELD_NUMBER: _ClassVar[int]
    DRAFT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    mode: DraftVerification.Mode
    draft_tokens: int
    accepted_tokens: int
    stopped: str
    def __init__(self, mode: _Optional[_Union[DraftVerification.Mode, str]] = ..., draft_tokens: _Optional[int] = ..., accepted_tokens: _Optional[int] = ..., stopped: _Optional[str] = ...) -> None: ...

class TopLogprob(_message.Message):
    __slots__ = ("token_id", "token", "logprob")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    LOGPROB_FIELD_NUMBER: _ClassVar[int]
    token_id: int
    token: str
    logprob: float
    def __init__(self, token_id: _Optional[int] = ..., token: _Optional[str] = ..., logprob: _Optional[float] = ...) -> None: ...

class TokenLogprob(_message.Message):
    __slots__ = ("token_id", "token", "logprob", "top")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    LOGPROB_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    token_id: int
    token: str
    logprob: float
    top: _containers.RepeatedCompositeFieldContainer[TopLogprob]
    def __init__(self, token_id: _Optional[int] = ..., token: _Optional[str] = ..., logprob: _Optional[float] = ..., top: _Optional[_Iterable[_Union[TopLogprob, _Mapping]]] = ...) -> None: ...

class TextDelta(_message.Message):
    __slots__ = ("text", "tokens")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    text: str
    tokens: _containers.RepeatedCompositeFieldContainer[TokenLogprob]
    def __init__(self, text: _Optional[str] = ..., tokens: _Optional[_Iterable[_Union[TokenLogprob, _Mapping]]] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ...) -> None: ...

class ServerTimings(_message.Message):
    __slots__ = ("queue_ms", "time_to_first_token_ms", "total_ms")
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    queue_ms: float
    time_to_first_token_ms: float
    total_ms: float
    def __init__(self, queue_ms: _Optional[float] = ..., time_to_first_token_ms: _Optional[float] = ..., total_ms: _Optional[float] = ...) -> None: ...

class CacheHint(_message.Message):
    __slots__ = ("cacheable", "ttl_seconds")
    CACHEABLE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    cacheable: bool
    ttl_seconds: int
    def __init__(self, cacheable: _Optional[bool] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class Final(_message.Message):
    __slots__ = ("request_id", "finish_reason", "model", "usage", "timings", "cache", "replica", "verification")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    finish_reason: FinishReason
    model: str
    usage: Usage
    timings: ServerTimings
    cache: CacheHint
    replica: str
    verification: Verification
    def __init__(self, request_id: _Optional[str] = ..., finish_reason: _Optional[_Union[FinishReason, str]] = ..., model: _Optional[str] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., timings: _Optional[_Union[ServerTimings, _Mapping]] = ..., cache: _Optional[_Union[CacheHint, _Mapping]] = ..., replica: _Optional[str] = ..., verification: _Optional[_Union[Verification, _Mapping]] = ...) -> None: ...

class GenerateResponse(_message.Message):
    __slots__ = ("delta", "final")
    DELTA_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    delta: TextDelta
    final: Final
    def __init__(self, delta: _Optional[_Union[TextDelta, _Mapping]] = ..., final: _Optional[_Union[Final, _Mapping]] = ...) -> None: ...

class ModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("model_id", "backend", "max_context_tokens", "max_output_tokens", "max_concurrent_requests", "max_top_logprobs", "server_version", "experts", "prompt_style")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    MAX_CONTEXT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MAX_TOP_LOGPROBS_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPERTS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_STYLE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    backend: str
    max_context_tokens: int
    max_output_tokens: int
    max_concurrent_requests: int
    max_top_logprobs: int
    server_version: str
    experts: _containers.RepeatedCompositeFieldContainer[ExpertInfo]
    prompt_style: str
    def __init__(self, model_id: _Optional[str] = ..., backend: _Optional[str] = ..., max_context_tokens: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., max_concurrent_requests: _Optional[int] = ..., max_top_logprobs: _Optional[int] = ..., server_version: _Optional[str] = ..., experts: _Optional[_Iterable[_Union[ExpertInfo, _Mapping]]] = ..., prompt_style: _Optional[str] = ...) -> None: ...

class ExpertInfo(_message.Message):
    __slots__ = ("name", "domain", "facts", "recall", "merged_from", "index_questions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    MERGED_FROM_FIELD_NUMBER: _ClassVar[int]
    INDEX_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    domain: str
    facts: int
    recall: float
    merged_from: _containers.RepeatedScalarFieldContainer[str]
    index_questions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., domain: _Optional[str] = ..., facts: _Optional[int] = ..., recall: _Optional[float] = ..., merged_from: _Optional[_Iterable[str]] = ..., index_questions: _Optional[_Iterable[str]] = ...) -> None: ...

class ServerStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServerStatus(_message.Message):
    __slots__ = ("admitted_requests", "engine_requests", "served_requests", "serving", "tenants", "healthy_replicas", "replicas")
    ADMITTED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SERVED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    TENANTS_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    admitted_requests: int
    engine_requests: int
    served_requests: int
    serving: bool
    tenants: _containers.RepeatedCompositeFieldContainer[TenantStatus]
    healthy_replicas: int
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaStatus]
    def __init__(self, admitted_requests: _Optional[int] = ..., engine_requests: _Optional[int] = ..., served_requests: _Optional[int] = ..., serving: _Optional[bool] = ..., tenants: _Optional[_Iterable[_Union[TenantStatus, _Mapping]]] = ..., healthy_replicas: _Optional[int] = ..., replicas: _Optional[_Iterable[_Union[ReplicaStatus, _Mapping]]] = ...) -> None: ...

class ReplicaStatus(_message.Message):
    __slots__ = ("replica", "healthy", "engine_requests", "served_requests", "pid", "node")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    ENGINE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    SERVED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    replica: str
    healthy: bool
    engine_requests: int
    served_requests: int
    pid: int
    node: str
    def __init__(self, replica: _Optional[str] = ..., healthy: _Optional[bool] = ..., engine_requests: _Optional[int] = ..., served_requests: _Optional[int] = ..., pid: _Optional[int] = ..., node: _Optional[str] = ...) -> None: ...

class TenantStatus(_message.Message):
    __slots__ = ("tenant", "requests", "rejected", "active_streams")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_STREAMS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    requests: int
    rejected: int
    active_streams: int
    def __init__(self, tenant: _Optional[str] = ..., requests: _Optional[int] = ..., rejected: _Optional[int] = ..., active_streams: _Optional[int] = ...) -> None: ...
