"""Threshold selection (pure logic on fixed outcomes) and `tandem-edge calibrate` end to end."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

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
from edge.calibration.labeled import builtin, split
from shared.config import load_config
from shared.launchers import DaemonProcess
from tests.edge.conftest import ask_daemon, run_edge_cli
from tests.settings import API_KEY

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
    config.write_text("# my settings\n[edge.local]\nmax_tokens = 32\n[edge.confidence]\nthreshold = 0.9\n")
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
        "--force",  # a dozen questions: written whatever the guard says of them
    )
    assert done.returncode == 0, done.stderr
    assert "held-out" in done.stdout and "vs random" in done.stdout
    assert "draft verification (exact)" in done.stdout, "the cloud verified the drafts, and the report prices it"
    written = tomllib.loads(config.read_text())
    chosen = json.loads(done.stdout.strip().splitlines()[-1])["chosen"]
    confidence = written["edge"]["confidence"]
    assert confidence["estimator"] == chosen and 0.0 <= confidence["threshold"] <= 1.0
    assert written["edge"]["local"]["max_tokens"] == 32 and "# my settings" in config.read_text()
    loaded = load_config(config).edge
    assert loaded.confidence.threshold == confidence["threshold"] and loaded.local.max_tokens == 32
    assert loaded.confidence.target_cloud_share == 0.5, "the asked share is held online without another flag"


def test_calibrate_rejects_bad_input(tmp_path, vllm_cloud):
    assert _calibrate(tmp_path, vllm_cloud, "--target-cloud-share", "1.5").returncode == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    done = _calibrate(tmp_path, vllm_cloud, "--labeled", str(bad), "--target-accuracy", "0.5")
    assert done.returncode == 2 and "bad.jsonl:1" in done.stderr


def test_calibrated_share_is_the_share_the_daemon_serves(tmp_path, vllm_cloud):
    """The replayed policy is the served one: the daemon, configured by calibrate and serving its data dir (so the
    router calibrate labeled), escalates on the held-out questions exactly the share calibrate reported for them
    (greedy decoding, nominal device)."""
    config = tmp_path / "tandem.toml"
    # The online controller (on by default) would move the threshold mid-test: this test is of the replay alone.
    flags = ["--sets", "capitals", "--limit", "12", "--write", str(config), "--json", "--force", "--no-hold-share"]
    done = _calibrate(tmp_path, vllm_cloud, *flags, "--target-cloud-share", "0.5")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    router = report["served_policy"]["router"]
    chosen = next(r for r in report["estimators"] if (r["estimator"], r["router"]) == (report["chosen"], router))
    assert chosen["calibration"]["cloud_share"] <= 0.5 and load_config(config).edge.routing.enabled == router
    _, held = split(builtin(["capitals"]), seed=0)
    daemon_flags = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY, "--threads", "2"]
    # The cloud on this machine is another process: its load must not shift the threshold mid-test.
    daemon_flags += ["--cache-enabled", "false", "--busy-cpu-shift", "0"]
    # Learning from traffic changes the policy as it serves, by design: this test is of the replay alone.
    daemon_flags += ["--router-agreement-labels", "false"]
    env = {"TANDEM_CONFIG": str(config)}
    with DaemonProcess(daemon_flags, data_dir=str(tmp_path), env=env) as daemon:
        labels = report["questions"]["calibration"] if router else None
        assert daemon.healthz()["namespaces"][""]["router_labels"] == labels
        served = [ask_daemon(daemon.base_url, item.question)["tandem"]["served_by"] for item in held[:12]]
    assert np.mean([s == "cloud" for s in served]) == pytest.approx(chosen["held_out"]["cloud_share"])


def test_calibrate_fits_the_learned_rule_and_the_edge_serves_it(tmp_path, vllm_cloud):
    config = tmp_path / "tandem.toml"
    flags = [
        "--sets",
        "capitals",
        "--limit",
        "12",
        "--estimators",
        "learned",
        "--write",
        str(config),
        "--json",
        "--force",
    ]
    done = _calibrate(tmp_path, vllm_cloud, *flags, "--target-cloud-share", "0.5")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["chosen"] == "learned" and 0.0 <= report["estimators"][0]["auroc"] <= 1.0
    rule = Path(report["learned_rule"])
    written = load_config(config).edge.confidence
    assert written.estimator == "learned" and Path(written.learned_path) == rule.resolve()
    question = ["What is the capital of France?", "--json", "--config", str(config)]
    asked = run_edge_cli(tmp_path, "ask", vllm_cloud.address, *question)
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["estimator"] == "learned"
    # A rule fitted for another edge model is refused at start, naming why and what to re-run.
    rule.write_text(rule.read_text().replace(json.loads(rule.read_text())["edge_model"], "another-model"))
    refused = run_edge_cli(tmp_path, "ask", vllm_cloud.address, *question)
    assert refused.returncode == 1 and b"another-model" in refused.stderr and b"tandem-edge calibrate" in refused.stderr


def test_risk_bounded_calibration_reports_its_bound(tmp_path, vllm_cloud):
    flags = ["--sets", "capitals", "--limit", "12", "--max-accuracy-loss", "0.3", "--confidence", "0.9", "--json"]
    done = _calibrate(tmp_path, vllm_cloud, *flags)
    assert done.returncode == 0, done.stderr
    risk = json.loads(done.stdout)["estimators"][0]["risk"]
    assert risk["questions"] == 12 and 0.0 < risk["loss_upper_bound"] <= 1.0
    assert not risk["held"] or risk["loss_upper_bound"] <= 0.3
