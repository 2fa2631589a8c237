"""Conversions between the tandem.v1 protobuf messages and Tandem's dataclasses, in one place."""

from __future__ import annotations

from shared.rpc import inference_pb2 as pb
from shared.types import (
    CacheHint,
    DraftVerification,
    ExpertInfo,
    FinishReason,
    GenerationChunk,
    GenerationRequest,
    ModelInfo,
    ServerTimings,
    TokenLogprob,
    TopLogprob,
    VerificationReport,
    VerifyMode,
)

FINISH_TO_PB = {
    FinishReason.STOP: pb.FINISH_REASON_STOP,
    FinishReason.LENGTH: pb.FINISH_REASON_LENGTH,
    FinishReason.ABORT: pb.FINISH_REASON_ABORT,
}
FINISH_FROM_PB = {v: k for k, v in FINISH_TO_PB.items()}
VERIFY_TO_PB = {
    VerifyMode.OFF: pb.DraftVerification.OFF,
    VerifyMode.EXACT: pb.DraftVerification.EXACT,
    VerifyMode.LENIENT: pb.DraftVerification.LENIENT,
}
VERIFY_FROM_PB = {v: k for k, v in VERIFY_TO_PB.items()}
FLEET_SHARE_TO_PB = {
    "off": pb.FLEET_SHARE_OFF,
    "embeddings": pb.FLEET_SHARE_EMBEDDINGS,
    "text": pb.FLEET_SHARE_TEXT,
}
FLEET_SHARE_FROM_PB = {v: k for k, v in FLEET_SHARE_TO_PB.items()}


def request_to_proto(req: GenerationRequest, model: str = "") -> pb.GenerateRequest:
    s = req.sampling
    sampling = pb.SamplingParams(max_tokens=s.max_tokens, temperature=s.temperature, top_p=s.top_p, stop=list(s.stop))
    if s.seed is not None:
        sampling.seed = s.seed
    msg = pb.GenerateRequest(request_id=req.request_id, model=model, sampling=sampling)
    if req.top_logprobs is not None:
        msg.top_logprobs = req.top_logprobs
    if req.expert:
        msg.expert = req.expert
    if req.messages is not None:
        msg.chat.messages.extend(pb.ChatMessage(role=m.role, content=m.content) for m in req.messages)
    elif req.question is not None:
        msg.question = req.question
    else:
        msg.prompt = req.prompt or ""
    if req.edge_context is not None:
        e = req.edge_context
        msg.edge_context.CopyFrom(
            pb.EdgeContext(
                draft_answer=e.draft_answer,
                confidence=e.confidence,
                estimator=e.estimator,
                edge_model=e.edge_model,
                fleet_share=FLEET_SHARE_TO_PB[e.fleet_share],
                question_embedding=e.question_embedding,
                embedder=e.embedder,
                draft_cut_short=e.draft_cut_short,
            )
        )
    if req.verify is not None and req.verify.mode != VerifyMode.OFF:
        msg.verify_draft.CopyFrom(pb.DraftVerification(mode=VERIFY_TO_PB[req.verify.mode], alpha=req.verify.alpha))
    return msg


def verification_to_proto(v: VerificationReport) -> pb.Verification:
    return pb.Verification(
        mode=VERIFY_TO_PB[v.mode], draft_tokens=v.draft_tokens, accepted_tokens=v.accepted_tokens, stopped=v.stopped
    )


def verification_from_proto(final: pb.Final) -> VerificationReport | None:
    if not final.HasField("verification"):
        return None
    v = final.verification
    mode = VERIFY_FROM_PB.get(v.mode, VerifyMode.OFF)  # a newer cloud's mode: reported, not fatal to the answer
    return VerificationReport(mode, v.draft_tokens, v.accepted_tokens, v.stopped)


def verify_from_proto(msg: pb.GenerateRequest) -> DraftVerification | None:
    """The request's verification, None when off (alpha is checked by the caller); ValueError for a mode this
    contract does not know."""
    if not msg.HasField("verify_draft") or msg.verify_draft.mode == pb.DraftVerification.OFF:
        return None
    mode = VERIFY_FROM_PB.get(msg.verify_draft.mode)
    if mode is None:
        raise ValueError(f"verify_draft.mode {msg.verify_draft.mode} is not one this server knows")
    return DraftVerification(mode, msg.verify_draft.alpha)


def delta_to_proto(chunk: GenerationChunk) -> pb.GenerateResponse:
    return pb.GenerateResponse(
        delta=pb.TextDelta(
            text=chunk.text,
            tokens=[
                pb.TokenLogprob(
                    token_id=t.token_id,
                    token=t.token,
                    logprob=t.logprob,
                    top=[pb.TopLogprob(token_id=a.token_id, token=a.token, logprob=a.logprob) for a in t.top],
                )
                for t in chunk.tokens
            ],
        )
    )


def tokens_from_proto(delta: pb.TextDelta) -> tuple[TokenLogprob, ...]:
    return tuple(
        TokenLogprob(t.token_id, t.token, t.logprob, tuple(TopLogprob(a.token_id, a.token, a.logprob) for a in t.top))
        for t in delta.tokens
    )


def timings_from_proto(t: pb.ServerTimings) -> ServerTimings:
    return ServerTimings(t.queue_ms, t.time_to_first_token_ms, t.total_ms)


def cache_from_proto(c: pb.CacheHint) -> CacheHint:
    return CacheHint(c.cacheable, c.ttl_seconds)


def model_info_from_proto(m: pb.ModelInfo) -> ModelInfo:
    return ModelInfo(
        model_id=m.model_id,
        backend=m.backend,
        max_context_tokens=m.max_context_tokens,
        max_output_tokens=m.max_output_tokens,
        max_concurrent_requests=m.max_concurrent_requests,
        max_top_logprobs=m.max_top_logprobs,
        server_version=m.server_version,
        experts=tuple(
            ExpertInfo(e.name, e.domain, e.facts, e.recall, tuple(e.merged_from), tuple(e.index_questions))
            for e in m.experts
        ),
        prompt_style=m.prompt_style or "few_shot_qa",
    )
