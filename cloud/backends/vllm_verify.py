"""The edge's draft verified on vLLM: one prefill scores it, the prefix the cloud agrees with is kept, the rest is
generated from there.

Exact: a draft token is kept while it is the cloud's own greedy choice at its position (rank 1 among the prompt
log-probs), so kept prefix + continuation is, token for token, the answer the cloud would have generated alone at
temperature 0. Lenient (the speculative-cascades deferral rule): kept while the cloud gives it at least `alpha`
times the probability of its own top token. The draft crosses the link as text and is tokenized here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.types import DraftVerification, GenerationRequest, TokenLogprob, TopLogprob, VerificationReport, VerifyMode


@dataclass(frozen=True)
class Verdict:
    kept: int  # draft tokens accepted
    stopped: str


def accepted_prefix(
    positions: Sequence[Mapping[int, Any] | None], draft_ids: Sequence[int], verify: DraftVerification
) -> Verdict:
    """`positions[i]`: the cloud's prompt log-probs at draft token i (token id -> vLLM Logprob with rank)."""
    floor = math.log(verify.alpha) if verify.mode == VerifyMode.LENIENT else 0.0
    for i, token in enumerate(draft_ids):
        position = positions[i] or {}
        top = min(position.values(), key=lambda lp: lp.rank if lp.rank is not None else math.inf, default=None)
        chosen = position.get(token)
        if verify.mode == VerifyMode.EXACT:
            kept = chosen is not None and chosen.rank == 1
        else:
            kept = chosen is not None and top is not None and chosen.logprob - top.logprob >= floor
        if not kept:
            wanted = repr(top.decoded_token) if top is not None and top.decoded_token is not None else "another token"
            return Verdict(i, f"draft token {i + 1} of {len(draft_ids)}: the cloud chose {wanted}")
    return Verdict(len(draft_ids), "the whole draft was accepted")


def draft_for_prompt(prompt_text: str, draft: str) -> str:
    """The draft as the cloud's answer would begin: no leading space after a newline or a chat turn, one after a
    few-shot "A:"."""
    stripped = draft.lstrip()
    if not prompt_text or prompt_text[-1].isspace():
        return stripped
    return " " + stripped


def without_stops(tokenizer: Any, ids: list[int], stops: Sequence[str]) -> int:
    """How many of `ids` to keep so that their text holds no stop string, does not end with the beginning of one,
    and ends on a whole character: vLLM looks for stop strings only in what it generates, so the continuation must
    generate every character of one to stop where the cloud alone would."""
    keep = len(ids)
    while keep:
        text = tokenizer.decode(ids[:keep])
        started = any(text.endswith(stop[:n]) for stop in stops for n in range(1, len(stop)))
        if not text.endswith("\ufffd") and not started and not any(stop in text for stop in stops):
            break
        keep -= 1
    return keep


def kept_logprobs(
    positions: Sequence[Mapping[int, Any] | None], ids: Sequence[int], top_n: int | None
) -> tuple[TokenLogprob, ...]:
    """The kept tokens' log-probs from the scoring prefill, as generated tokens would carry them."""
    if top_n is None:
        return ()
    result = []
    for token, position in zip(ids, positions, strict=False):
        entries = position or {}
        chosen = entries[token]
        top = sorted(
            (TopLogprob(t, lp.decoded_token or "", lp.logprob) for t, lp in entries.items()), key=lambda t: -t.logprob
        )[:top_n]
        result.append(TokenLogprob(token, chosen.decoded_token or "", chosen.logprob, tuple(top)))
    return tuple(result)


def report(request: GenerationRequest, draft_tokens: int, kept: int, stopped: str) -> VerificationReport:
    mode = request.verify.mode if request.verify is not None else VerifyMode.OFF
    return VerificationReport(mode, draft_tokens, kept, stopped)
