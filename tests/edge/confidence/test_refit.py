"""The learned rule refit from a namespace's labels: the calibrated rule as prior, a bounded rate, and labels
that survive a restart (real SQLite store; pure otherwise)."""

from __future__ import annotations

import numpy as np

from edge.confidence.learned import token_features
from edge.confidence.refit import RefitPolicy, RefittingLearned
from edge.core.protocols import AGREEMENT, FEEDBACK, TEACHER_SOURCES, LazyVector
from edge.routing.labels import OutcomeLabels
from edge.routing.outcome_store import OutcomeStore
from tests.clock import ManualClock
from tests.edge.confidence.test_learned import _fitted, _steps

POLICY = RefitPolicy(every=10, min_s=60.0, teacher_weight=0.5, teacher_sources=TEACHER_SOURCES)
CONFIDENT = _steps([-0.05, -0.1, -0.02, -0.08])  # the calibrated rule trusts drafts like this


def test_few_labels_nudge_the_rule_and_many_move_it():
    fitted = _fitted()
    before = fitted.score(CONFIDENT)
    x = np.stack([token_features(CONFIDENT)] * 200)
    wrong = np.zeros(200)  # in this app's traffic such drafts are wrong
    nudged = fitted.rule.refit(x[:3], wrong[:3], np.ones(3)).predict(x[:1])[0]
    moved = fitted.rule.refit(x, wrong, np.ones(200)).predict(x[:1])[0]
    assert before > 0.9 and before > nudged > moved and moved < 0.5


def test_refits_wait_for_enough_labels_and_time_and_teacher_labels_count_less():
    clock = ManualClock(1000.0)
    rule = RefittingLearned(_fitted(), POLICY, clock=clock)
    features = token_features(CONFIDENT)
    for _ in range(9):
        rule.learn(features, False, FEEDBACK)
    assert rule.refits == 0 and rule.score(CONFIDENT) == rule.fitted.score(CONFIDENT)
    rule.learn(features, False, FEEDBACK)
    assert rule.refits == 1 and rule.score(CONFIDENT) < rule.fitted.score(CONFIDENT)
    for _ in range(10):
        rule.learn(features, False, FEEDBACK)
    assert rule.refits == 1, "not sooner than min_s after the last refit"
    clock.t += 60.0
    rule.learn(features, False, FEEDBACK)
    assert rule.refits == 2
    by_feedback = RefittingLearned(
        _fitted(), POLICY, (np.stack([features] * 20), np.zeros(20), np.array([FEEDBACK] * 20))
    )
    by_teacher = RefittingLearned(
        _fitted(), POLICY, (np.stack([features] * 20), np.zeros(20), np.array([AGREEMENT] * 20))
    )
    assert by_feedback.score(CONFIDENT) < by_teacher.score(CONFIDENT) < by_teacher.fitted.score(CONFIDENT)


async def test_labeled_drafts_are_stored_with_their_features_and_reach_the_rule(tmp_path):
    store = OutcomeStore(tmp_path / "outcomes.sqlite")
    rule = RefittingLearned(_fitted(), RefitPolicy(1, 0.0, 0.5, TEACHER_SOURCES))
    labels = OutcomeLabels(store, None, rule, "edge-a")
    vector = LazyVector.of(np.ones(4, np.float32) / 2)
    await labels.record("q1", vector, edge_correct=False, source=AGREEMENT, steps=CONFIDENT)
    await labels.record("q2", vector, edge_correct=True, source=AGREEMENT)  # no draft tokens: no features
    assert rule.refits == 1
    store.close()
    reopened = OutcomeStore(tmp_path / "outcomes.sqlite")
    width = len(token_features(CONFIDENT))
    x, y, sources = reopened.featured("edge-a", width)
    assert x.shape == (1, width) and np.allclose(x[0], token_features(CONFIDENT))
    assert y.tolist() == [0.0] and sources.tolist() == [AGREEMENT]
    assert len(reopened.featured("edge-b", width)[1]) == 0, "another edge model's drafts do not refit this rule"
    assert len(reopened.featured("edge-a", width + 1)[1]) == 0, "nor features of another version"
    restarted = RefittingLearned(
        _fitted(), RefitPolicy(1, 0.0, 0.5, TEACHER_SOURCES), reopened.featured("edge-a", width)
    )
    assert restarted.score(CONFIDENT) == rule.score(CONFIDENT), "the labels kept before a restart still count"
