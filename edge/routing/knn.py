"""A router learned from labeled history: which side wins on the k nearest past questions.

For a new question, its k most similar labeled questions (cosine over sentence embeddings) are evidence about
each side separately: a neighbour at similarity s counts exp(sharpness * (s - 1)) of an observation (1 when
identical, less when farther). Each side's success probability is a Beta posterior whose prior is that
side's overall rate with `prior_strength` pseudo-observations, so thin evidence stays near the prior and a
side no neighbour labeled (app feedback labels only the side that served) falls back to it.

The gain of escalating is P(cloud right) - P(edge right), with a standard deviation from both posteriors.
`stay_local` maps it to a score in [0, 1] (1: the edge does as well as the cloud) on the scale of the log-prob
estimators, with credible bounds, so `edge.pipeline.decision` can tell "the cloud is better" (escalate before
generating) from "neither answers" and "the edge is better" (both: stay local).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabeledOutcomes:
    embeddings: np.ndarray  # (n, dim), unit rows
    edge_correct: np.ndarray  # (n,) bool, or float with NaN where unknown (feedback labels one side)
    cloud_correct: np.ndarray
    weights: np.ndarray | None = None  # (n,) what one row counts as (a label from the cloud as teacher: less)


@dataclass(frozen=True)
class SideEstimates:
    """Per query row: posterior means of each side's success, the gain's spread and the evidence behind it."""

    p_edge: np.ndarray
    p_cloud: np.ndarray
    gain_sd: np.ndarray
    support: np.ndarray  # weighted labeled neighbours (either side)
    nearest: np.ndarray  # similarity of the closest labeled question

    @property
    def gain(self) -> np.ndarray:
        return self.p_cloud - self.p_edge

    def stay_local(self, z: float = 0.0) -> np.ndarray:
        """(1 - (gain + z * sd)) / 2: z > 0 gives the pessimistic bound, z < 0 the optimistic one."""
        return np.clip((1.0 - (self.gain + z * self.gain_sd)) / 2.0, 0.0, 1.0)


class KnnRouter:
    def __init__(
        self,
        history: LabeledOutcomes,
        k: int = 10,
        sharpness: float = 10.0,
        prior_strength: float = 2.0,
        relative: bool = False,
    ) -> None:
        if len(history.embeddings) == 0:
            raise ValueError("the router needs at least one labeled outcome")
        self.history = history
        self.k = min(k, len(history.embeddings))
        self.sharpness = sharpness
        self.prior_strength = prior_strength
        self.relative = relative
        self._vectors = np.asarray(history.embeddings, np.float64)
        self._row_weights = np.ones(len(self._vectors)) if history.weights is None else history.weights
        self._edge = history.edge_correct.astype(float)
        self._cloud = history.cloud_correct.astype(float)
        self._prior_edge = self._overall_rate(self._edge, self._row_weights)
        self._prior_cloud = self._overall_rate(self._cloud, self._row_weights)

    @staticmethod
    def _overall_rate(labels: np.ndarray, weights: np.ndarray) -> float:
        """The side's weighted success rate over all labels, Laplace-smoothed: a prior is never certain."""
        known = np.isfinite(labels)
        w = weights[known]
        return float(((w * labels[known]).sum() + 1.0) / (w.sum() + 2.0))

    def estimate(self, embeddings: np.ndarray, leave_one_out: bool = False) -> SideEstimates:
        """`leave_one_out` scores the history itself, each row without its own label (for fitting on it)."""
        # Row by row in float64: a query's advice must not depend on the batch it is asked in (the daemon asks
        # one at a time, calibrate's replay all at once), and a batched matmul sums in another order.
        sims = np.stack([self._vectors @ row for row in np.asarray(embeddings, np.float64)])
        if leave_one_out:
            np.fill_diagonal(sims, -np.inf)
        top = np.argpartition(-sims, self.k - 1, axis=1)[:, : self.k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        top_sims = np.where(np.isfinite(top_sims), top_sims, -1.0)
        # Absolute: a neighbour counts by how close it is to an identical question. Relative: by how close it is
        # compared with the nearest one, so a kind's questions (about other subjects: cosine 0.5-0.75 with
        # MiniLM) count as evidence even when none is a near-duplicate.
        reference = top_sims.max(axis=1, keepdims=True) if self.relative else 1.0
        weights = np.exp(self.sharpness * (top_sims - reference)) * self._row_weights[top]
        p_edge, var_edge, n_edge = self._posterior(self._edge[top], weights, self._prior_edge)
        p_cloud, var_cloud, n_cloud = self._posterior(self._cloud[top], weights, self._prior_cloud)
        return SideEstimates(
            p_edge, p_cloud, np.sqrt(var_edge + var_cloud), np.maximum(n_edge, n_cloud), top_sims.max(1)
        )

    def _posterior(self, labels: np.ndarray, weights: np.ndarray, prior: float):
        known = np.isfinite(labels)
        w = np.where(known, weights, 0.0)
        successes = (w * np.nan_to_num(labels)).sum(axis=1)
        n = w.sum(axis=1)
        a = self.prior_strength * prior + successes
        b = self.prior_strength * (1.0 - prior) + (n - successes)
        mean = a / (a + b)
        return mean, mean * (1.0 - mean) / (a + b + 1.0), n

    def gain(self, embeddings: np.ndarray, leave_one_out: bool = False) -> np.ndarray:
        """Estimated P(cloud right) - P(edge right) for each query row, in [-1, 1]."""
        return self.estimate(embeddings, leave_one_out).gain

    def confidence(self, embeddings: np.ndarray, leave_one_out: bool = False) -> np.ndarray:
        """Stay-local score in [0, 1]: 1 when neighbours say escalating cannot help, 0 when it always does."""
        return self.estimate(embeddings, leave_one_out).stay_local()
