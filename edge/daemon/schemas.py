"""OpenAI-shaped request bodies, validated once and turned into cascade Queries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from edge.core.query import Policy, Query, QueryStyle
from shared.errors import InvalidRequest
from shared.text_checks import MAX_STOP_CHARS, text_problem
from shared.types import ChatMessage


class TandemOverrides(BaseModel):
    """Per-request policy, sent as the extra body field `tandem` (openai client: `extra_body={"tandem": ...}`)."""

    model_config = ConfigDict(extra="forbid")
    route: Literal["auto", "edge", "cloud"] = "auto"
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    privacy: Literal["off", "redact", "local_only"] = Field(
        "off", description="Tightens the app's privacy policy for this request (it can never loosen it)."
    )


def check_text(value: str, name: str) -> str:
    """NUL and lone surrogates are valid JSON but no model input: refused naming the field."""
    if (problem := text_problem(value)) is not None:
        raise ValueError(f"{name} {problem}")
    return value


class _Common(BaseModel):
    # OpenAI clients may send fields Tandem does not use (user, metadata, ...): accepted and ignored.
    model_config = ConfigDict(extra="ignore", strict=False)
    model: str
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    stream: bool = False
    n: int = Field(1, ge=1, le=1)
    tandem: TandemOverrides = Field(default_factory=TandemOverrides)

    @field_validator("stop")
    @classmethod
    def _stops(cls, v: str | list[str] | None) -> str | list[str] | None:
        stops = [v] if isinstance(v, str) else v or []
        if len(stops) > 4 or any(not s for s in stops):
            raise ValueError("stop takes up to 4 non-empty strings")
        if any(len(s) > MAX_STOP_CHARS for s in stops):
            raise ValueError(f"stop strings are at most {MAX_STOP_CHARS} characters")
        for s in stops:
            check_text(s, "stop")
        return v

    def wants_logprobs(self) -> bool:
        raise NotImplementedError

    def alternatives(self) -> int:
        """Alternatives per token the app asked for (OpenAI's `top_logprobs`, or a completion's `logprobs`)."""
        raise NotImplementedError

    def _stop_tuple(self) -> tuple[str, ...] | None:
        if self.stop is None:
            return None
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)

    def _query(self, max_input_chars: int, request_id: str, style: QueryStyle, **inputs) -> Query:
        text = (
            inputs.get("question") or inputs.get("prompt") or "".join(m.content for m in inputs.get("messages") or ())
        )
        if len(text) > max_input_chars:
            field = "prompt" if "prompt" in inputs else "messages"
            raise InvalidRequest(f"{field}: input has {len(text)} characters; the limit is {max_input_chars}")
        return Query(
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=self._stop_tuple(),
            seed=self.seed,
            policy=Policy(self.tandem.route, self.tandem.threshold, self.tandem.privacy),
            request_id=request_id,
            logprobs=self.wants_logprobs(),
            top_logprobs=self.alternatives() if self.wants_logprobs() else 0,
            style=style,
            **inputs,
        )


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant"]
    content: str

    @field_validator("content")
    @classmethod
    def _content(cls, v: str) -> str:
        return check_text(v, "content")


class ChatCompletionRequest(_Common):
    messages: list[ChatMessageIn] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)

    def wants_logprobs(self) -> bool:
        return self.logprobs

    def alternatives(self) -> int:
        return self.top_logprobs or 0

    def to_query(self, max_input_chars: int, request_id: str, style: QueryStyle) -> Query:
        if self.max_completion_tokens is not None and self.max_tokens is None:
            self.max_tokens = self.max_completion_tokens
        if any(not m.content.strip() for m in self.messages):
            raise InvalidRequest("messages must not have empty content")
        if len(self.messages) == 1 and self.messages[0].role == "user":
            # A single question goes through the configured prompt style, like `tandem-edge ask`.
            return self._query(max_input_chars, request_id, style, question=self.messages[0].content)
        messages = tuple(ChatMessage(m.role, m.content) for m in self.messages)
        return self._query(max_input_chars, request_id, style, messages=messages)


class CompletionRequest(_Common):
    prompt: str | list[str]
    max_tokens: int | None = Field(16, ge=1)
    logprobs: int | None = Field(None, ge=0, le=5)
    echo: bool = False

    @field_validator("prompt")
    @classmethod
    def _one_prompt(cls, v: str | list[str]) -> str:
        if isinstance(v, list):
            if len(v) != 1:
                raise ValueError("exactly one prompt per request is supported")
            v = v[0]
        return check_text(v, "prompt")

    @field_validator("echo")
    @classmethod
    def _no_echo(cls, v: bool) -> bool:
        if v:
            raise ValueError("echo is not supported")
        return v

    def wants_logprobs(self) -> bool:
        return self.logprobs is not None

    def alternatives(self) -> int:
        return self.logprobs or 0

    def to_query(self, max_input_chars: int, request_id: str, style: QueryStyle) -> Query:
        assert isinstance(self.prompt, str)
        return self._query(max_input_chars, request_id, style, prompt=self.prompt)


class FeedbackRequest(BaseModel):
    """An app's verdict on an answer it got, by the response id (`chatcmpl-...`, `cmpl-...` or the bare id)."""

    model_config = ConfigDict(extra="forbid")
    response_id: str = Field(min_length=1, max_length=200)
    correct: StrictBool

    def request_id(self) -> str:
        for prefix in ("chatcmpl-", "cmpl-"):
            if self.response_id.startswith(prefix):
                return self.response_id[len(prefix) :]
        return self.response_id
