"""The contract every generation engine implements, and checks they share."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

from shared.errors import InvalidRequest
from shared.types import BackendStats, ExpertInfo, GenerationChunk, GenerationRequest, SamplingParams


@dataclass(frozen=True)
class EngineDescription:
    model_id: str
    backend: str
    max_context_tokens: int
    experts: tuple[ExpertInfo, ...] = ()
    serves_experts: bool = False  # whether this engine can load adapters at all


class GenerationBackend(Protocol):
    """A started engine streams chunks; cancelling the iterator aborts the request inside the engine."""

    async def start(self) -> EngineDescription:
        """Loads the model; returns what it serves."""
        ...

    def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        """Streams deltas; the last chunk has `finish_reason` set and the token counts.

        Raises InvalidRequest before the first chunk when the prompt does not fit the context.
        """
        ...

    async def check_health(self) -> bool: ...

    def stats(self) -> BackendStats: ...

    async def shutdown(self) -> None: ...


async def warm_up(backend: GenerationBackend) -> None:
    """One tiny generation before reporting SERVING: the first request otherwise pays seconds of lazy setup."""
    request = GenerationRequest("warmup", SamplingParams(max_tokens=2), prompt="Hello", top_logprobs=1)
    async for _ in backend.generate(request):
        pass


def check_fits_context(prompt_tokens: int, max_tokens: int, max_context: int) -> None:
    if prompt_tokens + max_tokens > max_context:
        raise InvalidRequest(
            f"input (prompt or chat.messages) has {prompt_tokens} tokens; with max_tokens={max_tokens} it needs "
            f"{prompt_tokens + max_tokens} > the model context of {max_context} tokens"
        )


def strip_double_bos(token_ids: list[int], bos_id: int | None) -> list[int]:
    """A chat template that writes BOS itself plus a tokenizer that adds one yields two; keep one."""
    if bos_id is not None and len(token_ids) >= 2 and token_ids[0] == token_ids[1] == bos_id:
        return token_ids[1:]
    return token_ids
