"""Smoke tests of the learning-from-traffic benchmarks (fast pair): unseen kinds through real daemons, and the
router variants replayed on held-out sets."""

from __future__ import annotations

import json

from tests.benchmarks.test_benchmark_smoke import run
from tests.settings import API_KEY


def test_unseen_kinds_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "unseen.json"
    cloud = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY]
    flags = ["--holdout", "units", "--limit", "4", "--serve", "4", "--every", "2", "--out", str(out)]
    run("benchmarks.unseen_kinds", *cloud, *flags, timeout=900)
    data = json.loads(out.read_text())
    assert data["holdout"] == ["units"] and "units" not in data["calibrated_on"]
    for arm in data["arms"].values():
        assert arm["questions"] == 4 and [w["after"] for w in arm["windows"]] == [0, 2]
        assert 0.0 <= arm["share"] <= 1.0 and arm["random"] <= max(arm["edge_only"], arm["cloud_only"]) + 1e-9
    assert data["arms"]["no_learning"]["learned"] == {}, "learning off records no labels"
    assert data["arms"]["learning"]["guard"]["serving"] in ("policy", "random")
    assert set(data["arms"]["learning"]["per_topic"]) == {"units"} and len(data["questions"]) == 4
    assert (tmp_path / "unseen.png").is_file()


def test_audit_cost_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "audits.json"
    cloud = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY]
    run("benchmarks.audit_cost", *cloud, "--rate", "1", "--rounds", "2", "--per-round", "2", "--out", str(out))
    data = json.loads(out.read_text())
    audits = data["audits"]
    assert audits["eligible"] >= 1 and data["realized_rate"] == 1.0, "every kept answer audited at rate 1"
    assert audits["finished"] == audits["sampled"] and data["p50_on_over_off_median"] > 0


def test_router_replay_benchmark(tmp_path):
    out = tmp_path / "replay.json"
    run(
        "benchmarks.router_replay",
        "--backend",
        "llamacpp",
        "--per-set",
        "3",
        "--memo",
        str(tmp_path / "memo.jsonl"),
        "--out",
        str(out),
    )
    data = json.loads(out.read_text())
    assert len(data["sets"]) == 9 and set(data["mean_G"]) == {
        "log-prob only",
        "router",
        "router + agreement",
        "relative kernel + agreement",
        "relation + agreement",
        "k 50 + agreement",
    }
    for row in data["sets"].values():
        assert all(0.0 <= row[v]["share"] <= 1.0 for v in data["mean_G"])
