"""Threshold selection (pure logic on fixed outcomes) and `tandem-edge calibrate` end to end."""

from __future__ import annotations

import json
import subprocess
import tomllib

import numpy as np
import pytest

from edge.calibration.curves import (
    accuracy_at_share,
    cascade_curve,
    evaluate_threshold,
    roc_auc,
    threshold_for_accuracy,
    threshold_for_share,
)
from shared.config import load_config
from tests.edge.conftest import run_edge_cli

SCORES = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
EDGE_OK = np.array([False, False, True, True, True])
CLOUD_OK = np.array([True, False, True, False, True])


def test_auroc():
    assert roc_auc(SCORES, EDGE_OK) == 1.0
    assert roc_auc(SCORES, ~EDGE_OK) == 0.0
    assert roc_auc(np.array([0.5, 0.5]), np.array([True, False])) == 0.5


def test_curve_points_and_thresholds():
    curve = cascade_curve(SCORES, EDGE_OK, CLOUD_OK)
    assert [p.cloud_share for p in curve] == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert [round(p.accuracy, 2) for p in curve] == [0.6, 0.8, 0.8, 0.8, 0.6, 0.6]
    for p in curve:  # every point is reproduced by applying its threshold
        again = evaluate_threshold(SCORES, EDGE_OK, CLOUD_OK, p.threshold)
        assert (again.cloud_share, again.accuracy) == pytest.approx((p.cloud_share, p.accuracy))
    assert threshold_for_share(curve, 0.5).cloud_share == 0.4
    assert threshold_for_accuracy(curve, 0.8).cloud_share == 0.2
    assert threshold_for_accuracy(curve, 0.95) is None
    assert accuracy_at_share(curve, 0.1) == pytest.approx(0.7)


def test_ties_are_never_split():
    curve = cascade_curve(np.array([0.5, 0.5, 0.7]), np.array([True, False, True]), np.array([True, True, True]))
    assert [p.cloud_share for p in curve] == pytest.approx([0.0, 2 / 3, 1.0])


def _calibrate(tmp_path, cloud, *extra: str) -> subprocess.CompletedProcess:
    done = run_edge_cli(tmp_path, "calibrate", cloud.address, *extra, timeout=600)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def test_calibrate_writes_threshold_and_reports_held_out(tmp_path, vllm_cloud):
    config = tmp_path / "tandem.toml"
    config.write_text("# my settings\n[edge]\nmax_tokens = 32\nthreshold = 0.9\n")  # an older flat [edge]
    done = _calibrate(
        tmp_path,
        vllm_cloud,
        "--sets",
        "capitals",
        "--limit",
        "12",
        "--target-cloud-share",
        "0.5",
        "--estimators",
        "all",
        "--write",
        str(config),
    )
    assert done.returncode == 0, done.stderr
    assert "held-out" in done.stdout
    written = tomllib.loads(config.read_text())
    chosen = json.loads(done.stdout.strip().splitlines()[-1])["chosen"]
    confidence = written["edge"]["confidence"]
    assert confidence["estimator"] == chosen and 0.0 <= confidence["threshold"] <= 1.0
    assert "threshold" not in written["edge"], "the flat key it replaces is gone"
    assert written["edge"]["max_tokens"] == 32 and "# my settings" in config.read_text()
    loaded = load_config(config).edge
    assert loaded.confidence.threshold == confidence["threshold"] and loaded.local.max_tokens == 32


def test_calibrate_rejects_bad_input(tmp_path, vllm_cloud):
    assert _calibrate(tmp_path, vllm_cloud, "--target-cloud-share", "1.5").returncode == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    done = _calibrate(tmp_path, vllm_cloud, "--labeled", str(bad), "--target-accuracy", "0.5")
    assert done.returncode == 2 and "bad.jsonl:1" in done.stderr
