"""A router learned from labeled history: k nearest past questions say whether the cloud beats the edge.

For a new question, the outcomes of its k most similar labeled questions (cosine over sentence embeddings,
weighted by similarity) estimate the gain of escalating: the weighted mean of (cloud correct - edge correct),
in [-1, 1]. `confidence` maps it to a stay-local score in [0, 1] (1: the edge does as well as the cloud on
similar questions), so it mixes with the log-prob estimators on the same scale (`edge.pipeline.decision`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabeledOutcomes:
    embeddings: np.ndarray  # (n, dim), unit rows
    edge_correct: np.ndarray  # (n,) bool, or float with NaN where unknown (feedback labels one side)
    cloud_correct: np.ndarray


class KnnRouter:
    def __init__(self, history: LabeledOutcomes, k: int = 10, sharpness: float = 10.0) -> None:
        if len(history.embeddings) == 0:
            raise ValueError("the router needs at least one labeled outcome")
        self.history = history
        self.k = min(k, len(history.embeddings))
        self.sharpness = sharpness  # softmax temperature over similarities: closer neighbours count more
        self._edge = history.edge_correct.astype(float)
        self._cloud = history.cloud_correct.astype(float)
        # Where no neighbour knows a side, fall back to that side's overall success rate.
        self._prior_edge = float(np.nanmean(self._edge)) if np.isfinite(self._edge).any() else 0.5
        self._prior_cloud = float(np.nanmean(self._cloud)) if np.isfinite(self._cloud).any() else 0.5

    def gain(self, embeddings: np.ndarray, leave_one_out: bool = False) -> np.ndarray:
        """Estimated (cloud correct - edge correct) for each query row, in [-1, 1].

        `leave_one_out` scores the history itself, each row without its own label (for fitting on it).
        """
        sims = embeddings @ self.history.embeddings.T
        if leave_one_out:
            np.fill_diagonal(sims, -np.inf)
        top = np.argpartition(-sims, self.k - 1, axis=1)[:, : self.k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        top_sims = np.where(np.isfinite(top_sims), top_sims, -1.0)
        weights = np.exp(self.sharpness * (top_sims - top_sims.max(axis=1, keepdims=True)))
        return self._rate(self._cloud[top], weights, self._prior_cloud) - self._rate(
            self._edge[top], weights, self._prior_edge
        )

    @staticmethod
    def _rate(labels: np.ndarray, weights: np.ndarray, prior: float) -> np.ndarray:
        known = np.isfinite(labels)
        w = np.where(known, weights, 0.0)
        total = w.sum(axis=1)
        rate = (w * np.nan_to_num(labels)).sum(axis=1) / np.maximum(total, 1e-12)
        return np.where(total > 0, rate, prior)

    def nearest_similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """How close the closest labeled question is: a decision from far neighbours means little."""
        return (embeddings @ self.history.embeddings.T).max(axis=1)

    def confidence(self, embeddings: np.ndarray, leave_one_out: bool = False) -> np.ndarray:
        """Stay-local score in [0, 1]: 1 when neighbours say escalating cannot help, 0 when it always does."""
        return (1.0 - self.gain(embeddings, leave_one_out)) / 2.0
