"""Smoke test of benchmarks.unseen_kinds: held-out kinds through real daemons (fast pair), learning on and off."""

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
        assert arm["questions"] == 4 and [c["after"] for c in arm["checkpoints"]] == [2, 4]
        assert 0.0 <= arm["share"] <= 1.0 and arm["random"] <= max(arm["edge_only"], arm["cloud_only"]) + 1e-9
    assert data["arms"]["no_learning"]["learned"] == {}, "learning off records no labels"
