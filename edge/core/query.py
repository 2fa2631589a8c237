"""One input to the cascade, validated once: its text, cache key, sampling and what the models see."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

from edge.core.keys import cache_key
from edge.core.redaction import MODES, NO_PERSONAL_DATA, PersonalData, PrivacyMode
from shared.errors import InvalidRequest
from shared.prompts import PromptStyle, render_question, style_stops
from shared.types import ChatMessage, DraftVerification, EdgeContext, GenerationRequest, SamplingParams

Route = Literal["auto", "edge", "cloud"]


MAX_TOP_LOGPROBS = 20


@dataclass(frozen=True)
class Policy:
    """Per-request overrides of the configured policy."""

    route: Route = "auto"
    threshold: float | None = None
    privacy: PrivacyMode = "off"  # may only tighten the app's privacy policy


@dataclass(frozen=True)
class QueryStyle:
    """The configured defaults a query is rendered with ([edge.local])."""

    prompt_style: PromptStyle = "few_shot_qa"
    max_tokens: int = 32


@dataclass(frozen=True)
class Query:
    """A bare question (prompted per style), a raw prompt (used as is) or a conversation: exactly one is used.

    Raises InvalidRequest on construction when the input is unusable, so nothing inward re-checks it.
    """

    question: str = ""
    prompt: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    max_tokens: int | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    policy: Policy = field(default_factory=Policy)
    request_id: str = ""
    logprobs: bool = False  # ask the cloud for per-token log-probs too (the edge always has them)
    top_logprobs: int = 0  # with logprobs: this many alternatives per token, from whichever side answers
    style: QueryStyle = field(default_factory=QueryStyle)
    privacy: PersonalData = field(default=NO_PERSONAL_DATA, compare=False)  # set by the namespace's privacy gate

    def __post_init__(self) -> None:
        if self.messages is not None:
            if not self.messages:
                raise InvalidRequest("messages is empty")
        elif self.prompt is not None:
            if not self.prompt.strip():
                raise InvalidRequest("the prompt is empty")
        elif not self.question.strip():
            raise InvalidRequest("the question is empty")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InvalidRequest(f"max_tokens must be at least 1 (got {self.max_tokens})")
        if not 0 <= self.top_logprobs <= MAX_TOP_LOGPROBS:
            raise InvalidRequest(f"top_logprobs must be within [0, {MAX_TOP_LOGPROBS}] (got {self.top_logprobs})")
        if self.policy.route not in ("auto", "edge", "cloud"):
            raise InvalidRequest(f"route must be auto, edge or cloud (got {self.policy.route!r})")
        if self.policy.privacy not in MODES:
            raise InvalidRequest(f"privacy must be one of {', '.join(MODES)} (got {self.policy.privacy!r})")
        if self.policy.threshold is not None and not 0.0 <= self.policy.threshold <= 1.0:
            raise InvalidRequest(f"threshold must be within [0, 1] (got {self.policy.threshold})")
        if not self.request_id:
            object.__setattr__(self, "request_id", uuid.uuid4().hex)

    @cached_property
    def sampling(self) -> SamplingParams:
        stop = self.stop
        if stop is None:
            stop = style_stops(self.style.prompt_style) if self.is_bare else ()
        return SamplingParams(
            max_tokens=self.max_tokens or self.style.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=stop,
            seed=self.seed,
        )

    @cached_property
    def text(self) -> str:
        """What identifies the query: caches, embeddings and feedback refer to it."""
        if self.messages is not None:
            return "\n".join(f"{m.role}: {m.content}" for m in self.messages)
        return f"prompt: {self.prompt}" if self.prompt is not None else self.question

    @cached_property
    def key(self) -> str:
        return cache_key(self.text, self.sampling, self.style.prompt_style)

    @cached_property
    def params_key(self) -> str:
        """Everything but the text that changes an answer: a semantic hit must match it exactly."""
        return cache_key("", self.sampling, self.style.prompt_style)

    @property
    def decided_by_policy(self) -> bool:
        """Neither the side nor the threshold forced by the request or by personal data kept local."""
        return self.policy.route == "auto" and self.policy.threshold is None and not self.privacy.keep_local

    @property
    def is_bare(self) -> bool:
        """A bare question: each side renders it for its own model."""
        return self.messages is None and self.prompt is None

    @property
    def is_question(self) -> bool:
        """A question's answer stands alone (stripped); a raw completion keeps its leading space."""
        return self.prompt is None

    def rendered(
        self, context: list[tuple[str, str]] | None = None
    ) -> tuple[str | None, tuple[ChatMessage, ...] | None]:
        """(prompt, messages), exactly one set. `context` adds worked examples to a few-shot question."""
        if self.messages is not None:
            return None, self.messages
        if self.prompt is not None:
            return self.prompt, None
        prompt, messages, _ = render_question(self.question, self.style.prompt_style, context)
        return prompt, messages

    def for_cloud(self) -> tuple[str | None, tuple[ChatMessage, ...] | None, str | None, SamplingParams]:
        """(prompt, messages, question, sampling) of an escalation: a bare question goes as a question, without
        the edge rendering's stops, so the cloud renders it for its own model."""
        if self.is_bare:
            return None, None, self.question.strip(), replace(self.sampling, stop=self.stop or ())
        prompt, messages = self.rendered()
        return prompt, messages, None, self.sampling

    def escalation(
        self,
        edge_context: EdgeContext | None = None,
        expert: str = "",
        verify: DraftVerification | None = None,
        top_logprobs: int | None = None,
    ) -> GenerationRequest:
        """The request that puts this query to the cloud; `verify` applies only when the context carries a draft.
        Personal data the policy redacts leaves as placeholders, the draft's too, and no fleet embedding goes."""
        prompt, messages, question, sampling = self.redacted().for_cloud()
        if edge_context is not None and self.privacy.found:
            draft = self.privacy.redact(edge_context.draft_answer)
            edge_context = replace(edge_context, draft_answer=draft, fleet_share="off", question_embedding=())
        drafted = edge_context is not None and bool(edge_context.draft_answer)
        return GenerationRequest(
            self.request_id,
            sampling,
            prompt=prompt,
            messages=messages,
            question=question,
            top_logprobs=top_logprobs,
            edge_context=edge_context,
            expert=expert,
            verify=verify if drafted else None,
        )

    def redacted(self) -> Query:
        """This query with its personal data as placeholders and no mapping: what may be stored or re-asked."""
        if not self.privacy.found:
            return self
        p = self.privacy
        messages = (
            None if self.messages is None else tuple(replace(m, content=p.redact(m.content)) for m in self.messages)
        )
        prompt = None if self.prompt is None else p.redact(self.prompt)
        stop = None if self.stop is None else tuple(p.redact(s) for s in self.stop)
        question = p.redact(self.question)
        return replace(self, question=question, prompt=prompt, messages=messages, stop=stop, privacy=NO_PERSONAL_DATA)

    def rendered_text(self, context: list[tuple[str, str]] | None = None) -> str:
        """Exactly what the models see (a prompt, or the messages as JSON): a memo key for labeled runs."""
        prompt, messages = self.rendered(context)
        return prompt if prompt is not None else json.dumps([[m.role, m.content] for m in messages or ()])
