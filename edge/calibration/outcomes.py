"""Run labeled questions through the real edge model and the real cloud, memoized on disk.

Each edge answer keeps its per-token signals, so every estimator's score (and any threshold) can be
computed afterwards without running a model again. Records are keyed by model, answer length and the
rendered prompt: a rerun with other thresholds, estimators or graders costs nothing.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge.calibration.labeled import LabeledItem, is_correct
from edge.core.protocols import ConfidenceEstimator
from edge.core.query import Query
from edge.core.redaction import KEPT_LOCAL
from edge.namespace import AppNamespace
from shared.answers import draft_agrees
from shared.errors import BackendFailure
from shared.llama_runtime import StepToken
from shared.types import EdgeContext, ModelInfo, VerifyMode


@dataclass(frozen=True)
class EdgeRun:
    answer: str
    logprobs: list[float]
    margins: list[float]
    entropies: list[float]
    seconds: float
    prompt_tokens: int

    def steps(self) -> list[StepToken]:
        return [
            StepToken(0, "", "", lp, (), h, m)
            for lp, m, h in zip(self.logprobs, self.margins, self.entropies, strict=True)
        ]


@dataclass(frozen=True)
class CloudRun:
    """The cloud's answer; with a verified draft, prompt_tokens include the draft and completion_tokens count only
    the tokens generated after the `kept_tokens` of it the cloud kept."""

    answer: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    draft_tokens: int = 0
    kept_tokens: int = 0


@dataclass(frozen=True)
class Outcome:
    item: LabeledItem
    edge: EdgeRun
    cloud: CloudRun | None

    @property
    def edge_correct(self) -> bool:
        return is_correct(self.edge.answer, self.item)

    @property
    def cloud_correct(self) -> bool:
        return self.cloud is not None and is_correct(self.cloud.answer, self.item)

    def score(self, estimator: ConfidenceEstimator) -> float:
        """The served estimator's score (built by `create_estimator` from the config, quantile included)."""
        return estimator.score(self.edge.steps())


def outcome_arrays(
    outcomes: list[Outcome], estimator: ConfidenceEstimator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scores, edge correct, cloud correct) as arrays, the inputs of every curve and threshold."""
    return (
        np.array([o.score(estimator) for o in outcomes]),
        np.array([o.edge_correct for o in outcomes]),
        np.array([o.cloud_correct for o in outcomes]),
    )


class Memo:
    """Append-only JSONL of model answers; the last record of a key wins."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.records: dict[str, dict] = {}
        if path and path.is_file():
            for line in path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.records[rec["key"]] = rec["value"]

    def get(self, key: str) -> dict | None:
        return self.records.get(key)

    def put(self, key: str, value: dict) -> None:
        self.records[key] = value
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps({"key": key, "value": value}) + "\n")


async def memoized_edge_run(
    namespace: AppNamespace, memo: Memo, key: str, query: Query, context: list[tuple[str, str]] | None = None
) -> EdgeRun:
    """The edge's whole answer to `query` with its per-token signals, generated once per memo key."""
    if (cached := memo.get(key)) is None:
        draft = await namespace.labeled.draft(query, context)
        steps = draft.steps
        cached = asdict(
            EdgeRun(
                draft.text.strip(),
                [s.logprob for s in steps],
                [s.margin for s in steps],
                [s.entropy for s in steps],
                draft.seconds,
                draft.prompt_tokens,
            )
        )
        memo.put(key, cached)
    return EdgeRun(**cached)


CLOUD_ATTEMPTS = 3


async def wait_for_cloud(namespace: AppNamespace, limit_s: float = 60.0) -> None:
    """Waits (bounded) while the circuit breaker holds the cloud off, then a moment more."""
    for _ in range(int(limit_s)):
        if namespace.cloud_available:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(1.0)


async def collect_outcomes(
    namespace: AppNamespace,
    items: list[LabeledItem],
    memo_path: Path | None = None,
    cloud: ModelInfo | None = None,
    concurrency: int = 8,
    progress: bool = True,
) -> list[Outcome]:
    """`cloud`: the cloud that answers too (None: the edge only); `concurrency`: cloud requests in flight, under
    the server's cap (beyond it, refused)."""
    memo = Memo(memo_path)

    def query(item: LabeledItem) -> Query:
        return Query(question=item.question, style=namespace.style, request_id=f"label-{item.id}")

    verify = namespace.verify
    verified = verify.mode != VerifyMode.OFF

    def key(side: str, model: str, item: LabeledItem) -> str:
        # What the model sees, not the question: a changed prompt format never reuses stale answers. The cloud
        # renders a bare question itself, in its model's style; a verified one also sees the edge model's draft.
        style = cloud.prompt_style if cloud else ""
        if verified and side == "cloud":
            style = f"{style}|{verify.mode}:{verify.alpha}|{namespace.edge_model}"
        seen = query(item).rendered_text() if side == "edge" else f"{style}|{item.question}"
        return f"{side}|{model}|{namespace.style.max_tokens}|{seen}"

    edge_runs: dict[str, EdgeRun] = {}
    for item in tqdm(items, desc="edge answers", disable=not progress):
        k = key("edge", namespace.edge_model, item)
        edge_runs[item.id] = await memoized_edge_run(namespace, memo, k, query(item))

    cloud_runs: dict[str, CloudRun] = {}
    if cloud is not None:
        limit = asyncio.Semaphore(max(1, concurrency))
        bar = tqdm(total=len(items), desc="cloud answers", disable=not progress)

        async def ask(item: LabeledItem) -> None:
            k = key("cloud", cloud.model_id, item)
            if (cached := memo.get(k)) is None:
                # The served cascade escalates with its draft, verified as configured: the same here, so the run
                # tells what verification saved (edge.calibration.costs).
                edge = edge_runs[item.id]
                drafted = EdgeContext(edge.answer, 0.0, "", namespace.edge_model) if verified and edge.answer else None
                for attempt in range(CLOUD_ATTEMPTS):  # a busy cloud missing one deadline must not end the run
                    async with limit:
                        outcome = await namespace.escalate(query(item), cache_answer=False, edge_context=drafted)
                    if outcome.result is not None or outcome.failure == KEPT_LOCAL or attempt == CLOUD_ATTEMPTS - 1:
                        break
                    await wait_for_cloud(namespace)
                if outcome.failure == KEPT_LOCAL:  # the served policy never asks the cloud: it has no answer
                    cloud_runs[item.id] = CloudRun("", 0, 0, 0.0)
                    bar.update(1)
                    return
                if outcome.result is None:
                    raise BackendFailure(f"the cloud failed on {item.id}: {outcome.failure} {outcome.detail}")
                r = outcome.result
                v = r.verification
                run = CloudRun(r.text.strip(), r.prompt_tokens, r.completion_tokens, r.client_latency_ms)
                if v is not None:
                    run = replace(run, draft_tokens=v.draft_tokens, kept_tokens=v.accepted_tokens)
                cached = asdict(run)
                memo.put(k, cached)
            cloud_runs[item.id] = CloudRun(**cached)
            bar.update(1)

        await asyncio.gather(*(ask(i) for i in items))
        bar.close()
    return [Outcome(i, edge_runs[i.id], cloud_runs.get(i.id)) for i in items]


def agreement_report(outcomes: list[Outcome]) -> dict[str, dict[str, float | int | None]]:
    """Per topic, how far an agreement label (the edge's answer against the cloud's, as the daemon labels an
    escalated draft) can be trusted: P(edge right | it agrees) and P(edge wrong | it disagrees)."""
    by_topic: dict[str, list[tuple[bool, bool]]] = {}
    for o in outcomes:
        if o.cloud is not None and (agrees := draft_agrees(o.edge.answer, o.cloud.answer, complete=True)) is not None:
            for topic in ("all", o.item.topic) if o.item.topic else ("all",):
                by_topic.setdefault(topic, []).append((agrees, o.edge_correct))

    def rate(pairs: list[tuple[bool, bool]], agreeing: bool) -> float | None:
        right = [ok for agrees, ok in pairs if agrees == agreeing]
        return None if not right else float(np.mean(right) if agreeing else 1.0 - np.mean(right))

    return {
        topic: {
            "questions": len(pairs),
            "agree": sum(a for a, _ in pairs),
            "edge_right_when_agreeing": rate(pairs, True),
            "edge_wrong_when_disagreeing": rate(pairs, False),
        }
        for topic, pairs in sorted(by_topic.items())
    }
