"""The boundaries of the cascade: what it needs from local generation, confidence, embeddings, the cache,
routing, expert choice and the cloud.

The cascade depends only on these; the real implementations live in edge/local, edge/confidence, edge/cache,
edge/routing and edge/uplink, and in-memory ones in the policy tests.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge.core.query import Query
from shared.llama_runtime import StepToken
from shared.types import GenerationRequest, GenerationResult


@dataclass
class Draft:
    """A local generation: its steps carry every signal the confidence estimators read."""

    steps: list[StepToken]
    seconds: float
    stopped_early: bool
    prompt_tokens: int

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.steps)


# Called after each generated token with the steps so far; True stops the generation (early escalation).
StopRule = Callable[[Sequence[StepToken]], bool]


class LocalGenerator(Protocol):
    model_name: str

    @property
    def running(self) -> int:
        """Local generations queued or running now."""
        ...

    async def generate(
        self, query: Query, context: list[tuple[str, str]] | None = None, stop_when: StopRule | None = None
    ) -> Draft:
        """The edge's answer; raises InvalidRequest when it cannot fit, Overloaded when the queue is full."""
        ...

    async def complete(self, query: Query, draft: Draft, context: list[tuple[str, str]] | None = None) -> Draft:
        """Finishes a draft that `stop_when` cut short."""
        ...


class ConfidenceEstimator(Protocol):
    name: str

    def score(self, steps: Sequence[StepToken]) -> float:
        """Confidence that the answer is right, in [0, 1]; higher is more confident."""
        ...

    def upper_bound(self, steps: Sequence[StepToken], max_tokens: int) -> float:
        """The highest score any continuation of `steps` (up to max_tokens in all) could reach."""
        ...


class Embedder(Protocol):
    """Sentence embeddings off the event loop: unit float32 rows of `dim` columns, by the model `name`."""

    dim: int
    name: str

    async def embed(self, text: str) -> np.ndarray: ...

    async def embed_many(self, texts: list[str]) -> np.ndarray: ...


class LazyVector:
    """A query's embedding, computed on first use and shared by every later one (cache, router, context).

    An exact cache hit never asks for it, so it costs nothing there.
    """

    def __init__(self, embedder: Embedder | None, text: str) -> None:
        self._embedder = embedder
        self.text = text
        self._value: np.ndarray | None = None

    @property
    def available(self) -> bool:
        return self._embedder is not None or self._value is not None

    async def get(self) -> np.ndarray | None:
        if self._value is None and self._embedder is not None:
            self._value = await self._embedder.embed(self.text)
        return self._value

    @classmethod
    def of(cls, vector: np.ndarray) -> LazyVector:
        known = cls(None, "")
        known._value = vector
        return known


@dataclass(frozen=True)
class CacheHit:
    answer: str
    model: str
    similarity: float | None = None  # None for an exact hit
    key: str | None = None  # the entry a semantic hit served


class AnswerCache(Protocol):
    """Exact and semantic lookups behind one facade; `store` writes both indexes."""

    async def lookup(self, query: Query, vector: LazyVector) -> CacheHit | None: ...

    async def audited(self, query: Query, hit: CacheHit, fresh: GenerationResult, vector: LazyVector) -> bool | None:
        """The cloud's fresh answer to an audited semantic hit: whether they agree (None: cannot tell)."""
        ...

    async def store(
        self, query: Query, *, answer: str, model: str, ttl_s: float, meta: dict, vector: LazyVector
    ) -> None: ...

    async def context_for(self, query: Query, vector: LazyVector) -> list[tuple[str, str]]:
        """Cached (question, answer) pairs close to the query, closest last (cache as context)."""
        ...


# Where a labeled outcome came from: `tandem-edge calibrate`, an app's feedback, the cloud's answer to an
# escalated draft, or a background re-ask of an answer kept local.
CALIBRATION, FEEDBACK, AGREEMENT, AUDIT = "calibration", "feedback", "agreement", "audit"
# Labels whose other side is the cloud's own answer: the cloud is a teacher, not an oracle.
TEACHER_SOURCES = (AGREEMENT, AUDIT)


class LabelSink(Protocol):
    """Takes the labels the cascade observes (agreement, audits); the router learns from them at once."""

    async def record(
        self,
        question: str,
        vector: LazyVector,
        *,
        edge_correct: bool,
        source: str,
        steps: Sequence[StepToken] = (),  # the draft's tokens: its decision-time features are kept with the label
        cloud_correct: float | None = None,  # the cloud's side, soft (its confidence), when the cloud labels itself
    ) -> None: ...


@dataclass(frozen=True)
class RouterAdvice:
    """What labeled neighbours say: a stay-local score in [0, 1] with credible bounds (low <= confidence <=
    high); `confidence` None when no labeled question is close enough, or too little evidence."""

    confidence: float | None
    low: float | None = None
    high: float | None = None

    @classmethod
    def exact(cls, confidence: float) -> RouterAdvice:
        return cls(confidence, confidence, confidence)


class RoutePolicy(Protocol):
    async def advise(self, vector: LazyVector) -> RouterAdvice: ...


@dataclass(frozen=True)
class ExpertChoice:
    name: str  # "" when the router abstained
    similarity: float | None  # None for a fixed choice


class ExpertPolicy(Protocol):
    async def choose(self, vector: LazyVector) -> ExpertChoice | None:
        """The cloud memory expert an escalation names; None: the request names none."""
        ...


@dataclass(frozen=True)
class UplinkDelta:
    text: str


@dataclass(frozen=True)
class UplinkDone:
    """The end of an escalation: a result, or why there is none (the cascade then degrades)."""

    result: GenerationResult | None
    failure: str | None = None
    detail: str = ""
    sent: bool = True  # False: nothing of the request left the device (circuit open, egress log unwritable)


UplinkEvent = UplinkDelta | UplinkDone
# Records a request's exact message before it leaves (request id, bytes); False: it must not leave.
EgressAudit = Callable[[str, bytes], bool]


async def settle(events: AsyncIterator[UplinkEvent]) -> UplinkDone:
    """An escalation's outcome when nobody reads its deltas (reconciliation, labeled runs)."""
    done = UplinkDone(None, "cloud_error", "the uplink ended without an outcome")
    async for event in events:
        if isinstance(event, UplinkDone):
            done = event
    return done


class Uplink(Protocol):
    def stream(self, request: GenerationRequest) -> AsyncGenerator[UplinkEvent, None]:
        """Deltas as the cloud sends them, then exactly one UplinkDone. Never raises for cloud trouble;
        closing the iterator cancels the RPC (and so the request in the cloud engine)."""
        ...

    @property
    def available(self) -> bool:
        """False while the circuit is open: asking would fail at once."""
        ...
