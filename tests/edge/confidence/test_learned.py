"""The learned estimator (pure logic): the rule finds the signal, round-trips through its artifact, and a stale or
mismatched artifact is refused naming why."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge.calibration.curves import roc_auc
from edge.confidence.estimators import configured_estimator
from edge.confidence.learned import LearnedEstimator, LogisticDeferral
from shared.config import EdgeConfig
from shared.errors import InvalidConfig
from shared.llama_runtime import StepToken


def test_logistic_deferral_learns_a_separating_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)  # only feature 1 matters
    model = LogisticDeferral().fit(x[:200], y[:200])
    p = model.predict(x[200:])
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc(p, y[200:].astype(bool)) > 0.9
    assert abs(model.weights[2]) > 3 * max(abs(model.weights[1]), abs(model.weights[3])), "weight on the signal"


def _steps(logprobs: list[float]) -> list[StepToken]:
    return [StepToken(0, "x", "x", lp, (), 0.1, 0.5) for lp in logprobs]


def _fitted() -> LearnedEstimator:
    rng = np.random.default_rng(1)
    drafts = [_steps(list(-rng.exponential(scale, size=4))) for scale in rng.uniform(0.05, 3.0, size=80)]
    right = np.array([np.mean([s.logprob for s in d]) > -1.0 for d in drafts])
    return LearnedEstimator.fit(drafts, right, "SmolLM2-135M-Instruct.Q4_1", "few_shot_qa")


def test_learned_rule_round_trips_through_its_artifact(tmp_path):
    rule = _fitted()
    path = tmp_path / "tandem.learned.json"
    rule.save(path, trained_on=80)
    again = LearnedEstimator.load(path, "SmolLM2-135M-Instruct.Q4_1", "few_shot_qa")
    sure, doubtful = _steps([-0.01, -0.02]), _steps([-2.5, -3.0, -1.9])
    assert again.score(sure) == rule.score(sure) > 0.5 > rule.score(doubtful) == again.score(doubtful)
    assert again.upper_bound(doubtful, 32) == 1.0, "no continuation bound: early escalation never stops it"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": 0}, "stale"),
        ({"format": "something else"}, "not a learned estimator rule"),
        ({"features": ["mean_logprob"]}, "stale"),
        ({"edge_model": "Qwen2.5-Coder-0.5B"}, "fitted for edge_model 'Qwen2.5-Coder-0.5B'"),
        ({"prompt_style": "chat"}, "fitted for prompt_style 'chat'"),
        ({"weights": [0.0, 1.0]}, "2 weights for 7 features"),
    ],
)
def test_a_stale_or_mismatched_rule_is_refused_naming_why(tmp_path, change, reason):
    path = tmp_path / "rule.json"
    _fitted().save(path, trained_on=80)
    path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
    with pytest.raises(InvalidConfig, match=reason) as refused:
        LearnedEstimator.load(path, "SmolLM2-135M-Instruct.Q4_1", "few_shot_qa")
    assert "tandem-edge calibrate" in str(refused.value)


def test_a_missing_or_unreadable_rule_is_refused(tmp_path):
    with pytest.raises(InvalidConfig, match="needs its fitted rule"):
        LearnedEstimator.load(tmp_path / "none.json", "m", "few_shot_qa")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidConfig, match="unreadable"):
        LearnedEstimator.load(tmp_path / "bad.json", "m", "few_shot_qa")


def test_the_configured_learned_estimator_is_the_saved_rule(tmp_path):
    rule = _fitted()
    rule.save(tmp_path / "r.json", trained_on=80)
    edge = EdgeConfig(confidence={"estimator": "learned", "learned_path": str(tmp_path / "r.json")})
    served = configured_estimator(edge, "SmolLM2-135M-Instruct.Q4_1")
    assert served.name == "learned" and served.score(_steps([-0.3])) == rule.score(_steps([-0.3]))
    with pytest.raises(InvalidConfig, match="right and wrong"):
        LearnedEstimator.fit([_steps([-0.1])] * 3, np.array([True] * 3), "m", "few_shot_qa")
