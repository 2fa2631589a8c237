"""llama.cpp generation with per-token log-probs at the cost of one log-softmax per generated token.

`Llama(logits_all=True)` keeps logits for every prompt token (n_ctx x n_vocab
floats) just to report log-probs; here the context keeps only the last row and
each step reads it once to sample and to score the sampled token (log-prob,
top-k alternatives, entropy, top-1/top-2 margin), which is what confidence
estimators need. Used by the edge agent and by the cloud's llama.cpp backend;
llama_cpp is imported only when a runner is built.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.chat_template import render_chat
from shared.types import ChatMessage, FinishReason, SamplingParams, TopLogprob

_DONE = object()


@dataclass(frozen=True)
class StepToken:
    """One generated token and what the model thought of it."""

    token_id: int
    token: str  # the token's own piece of text
    text: str  # the text this token completes ("" while a multi-byte character is unfinished)
    logprob: float
    top: tuple[TopLogprob, ...]
    entropy: float
    margin: float  # probability of the best token minus the second best
    finish_reason: FinishReason | None = None


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


def _choose(logprobs: np.ndarray, sampling: SamplingParams, rng: np.random.Generator) -> int:
    if sampling.temperature <= 0.0:
        return int(np.argmax(logprobs))
    scaled = logprobs / sampling.temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if sampling.top_p < 1.0:
        order = np.argsort(-probs)
        keep = order[: int(np.searchsorted(np.cumsum(probs[order]), sampling.top_p)) + 1]
        return int(rng.choice(keep, p=probs[keep] / probs[keep].sum()))
    return int(rng.choice(probs.size, p=probs))


class LlamaCppRunner:
    """One llama.cpp context. Not thread-safe: callers serialize (see `astream`)."""

    def __init__(self, model_path: Path, n_ctx: int = 2048, n_threads: int = 0, seed: int = 0) -> None:
        from llama_cpp import Llama

        if not Path(model_path).is_file():
            raise FileNotFoundError(f"GGUF model not found: {model_path}")
        kwargs = {"n_threads": n_threads} if n_threads > 0 else {}
        self._llm = Llama(model_path=str(model_path), n_ctx=n_ctx, logits_all=False, verbose=False, seed=seed, **kwargs)
        self._seed = seed
        self.closed = False
        self.model_path = Path(model_path)
        self.n_ctx = self._llm.n_ctx()
        self.n_vocab = self._llm.n_vocab()
        self._vocab = self._llm._model.vocab
        self._lock = asyncio.Lock()  # one request at a time on this context, for async callers
        self._busy = threading.Lock()  # held while a thread is inside llama.cpp; close() waits for it
        meta = self._llm.metadata
        self.chat_template = meta.get("tokenizer.chat_template")
        self.bos_text = self._piece(self._llm.token_bos())
        self.eos_text = self._piece(self._llm.token_eos())

    def _piece_bytes(self, token: int, special: bool) -> bytes:
        import ctypes

        from llama_cpp import llama_token_to_piece

        size = 64
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama_token_to_piece(self._vocab, token, buf, size, 0, special)
            if n >= 0:
                return buf.raw[:n]
            size = -n  # negative: the piece needs this many bytes

    def _piece(self, token: int) -> str:
        return self._piece_bytes(token, special=True).decode("utf-8", "replace")

    def close(self) -> None:
        with self._busy:
            self._llm.close()
            self.closed = True

    def tokenize(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode(), add_bos=self._llm._model.add_bos_token(), special=False)

    def tokenize_chat(self, messages: tuple[ChatMessage, ...]) -> list[int]:
        text = render_chat(messages, self.chat_template, bos_token=self.bos_text, eos_token=self.eos_text)
        ids = self._llm.tokenize(text.encode(), add_bos=self._llm._model.add_bos_token(), special=True)
        bos = self._llm.token_bos()
        return ids[1:] if len(ids) >= 2 and ids[0] == ids[1] == bos else ids

    def _is_eog(self, token: int) -> bool:
        from llama_cpp import llama_vocab_is_eog

        return bool(llama_vocab_is_eog(self._vocab, token))

    def _prefill(self, prompt_ids: list[int]) -> None:
        """Reuses the KV cache for the prefix shared with the previous prompt (few-shot prompts repeat)."""
        llm = self._llm
        shared = 0
        limit = min(llm.n_tokens, len(prompt_ids) - 1)  # always evaluate at least one token for fresh logits
        cached = llm.input_ids[:limit]
        while shared < limit and cached[shared] == prompt_ids[shared]:
            shared += 1
        llm.n_tokens = shared
        llm.eval(prompt_ids[shared:])

    def stream(
        self,
        prompt_ids: list[int],
        sampling: SamplingParams,
        top_n: int = 0,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> Iterator[StepToken]:
        """Yields one StepToken per generated token; the last one carries the finish reason."""
        if len(prompt_ids) + sampling.max_tokens > self.n_ctx:
            raise ValueError(f"prompt ({len(prompt_ids)}) + max_tokens ({sampling.max_tokens}) > n_ctx {self.n_ctx}")
        with self._busy:
            yield from self._steps(prompt_ids, sampling, top_n, cancelled)

    def _steps(
        self, prompt_ids: list[int], sampling: SamplingParams, top_n: int, cancelled: Callable[[], bool]
    ) -> Iterator[StepToken]:
        llm = self._llm
        rng = np.random.default_rng(sampling.seed if sampling.seed is not None else self._seed)
        self._prefill(prompt_ids)
        pending = b""
        text = ""
        for step in range(sampling.max_tokens):
            if cancelled():
                return
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(self.n_vocab,))
            logprobs = _log_softmax(logits.astype(np.float64))
            token = _choose(logprobs, sampling, rng)
            best2 = np.argpartition(-logprobs, 2)[:2] if self.n_vocab > 2 else np.argsort(-logprobs)
            p1, p2 = sorted(np.exp(logprobs[best2]), reverse=True)[:2]
            probs = np.exp(logprobs)
            entropy = float(-(probs * logprobs).sum())
            top: tuple[TopLogprob, ...] = ()
            if top_n:
                ids = np.argpartition(-logprobs, top_n)[:top_n]
                ids = ids[np.argsort(-logprobs[ids])]
                top = tuple(TopLogprob(int(i), self._piece(int(i)), float(logprobs[i])) for i in ids)
            finish: FinishReason | None = None
            delta = ""
            if self._is_eog(token):
                finish = FinishReason.STOP
            else:
                pending += self._piece_bytes(token, special=False)
                try:
                    delta = pending.decode("utf-8")
                    pending = b""
                except UnicodeDecodeError:
                    delta = ""  # an unfinished multi-byte character; completed by a later token
                stop_at = _find_stop(text + delta, sampling.stop)
                if stop_at is not None:
                    delta = (text + delta)[:stop_at][len(text) :]
                    finish = FinishReason.STOP
                elif step == sampling.max_tokens - 1:
                    finish = FinishReason.LENGTH
            text += delta
            yield StepToken(
                token, self._piece(token), delta, float(logprobs[token]), top, entropy, float(p1 - p2), finish
            )
            if finish is not None:
                return
            llm.eval([token])

    async def astream(
        self,
        prompt_ids: list[int],
        sampling: SamplingParams,
        top_n: int = 0,
        on_start: Callable[[], None] = lambda: None,
    ) -> AsyncGenerator[StepToken, None]:
        """Runs `stream` in a worker thread, one request at a time; closing or cancelling stops it within one step.

        Consumers that may stop early must close the iterator (`contextlib.aclosing`): a plain `break`
        leaves it suspended, holding the context until garbage collection.
        """
        async with self._lock:
            on_start()
            loop = asyncio.get_running_loop()
            queue: asyncio.Queue = asyncio.Queue()
            stop = threading.Event()

            def work() -> None:
                try:
                    for item in self.stream(prompt_ids, sampling, top_n, stop.is_set):
                        loop.call_soon_threadsafe(queue.put_nowait, item)
                except BaseException as exc:  # handed to the consumer, which re-raises it
                    loop.call_soon_threadsafe(queue.put_nowait, exc)
                finally:
                    loop.call_soon_threadsafe(queue.put_nowait, _DONE)

            worker = loop.run_in_executor(None, work)
            try:
                while (item := await queue.get()) is not _DONE:
                    if isinstance(item, BaseException):
                        raise item
                    yield item
            finally:
                stop.set()
                # The context stays locked until the thread has really left it.
                await asyncio.shield(worker)


def _find_stop(text: str, stops: tuple[str, ...]) -> int | None:
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None
