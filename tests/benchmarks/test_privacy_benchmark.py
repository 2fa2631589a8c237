"""Smoke test of the privacy benchmark against the session's vLLM cloud (the fast pair): a few requests of each
type through a real daemon and a capturing proxy."""

from __future__ import annotations

import json

from benchmarks.privacy_data import TYPES
from tests.benchmarks.test_benchmark_smoke import finite, run
from tests.settings import API_KEY


def test_privacy_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "privacy.json"
    cloud = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY]
    run("benchmarks.privacy", *cloud, "--requests", "18", "--quality", "2", "--latency", "5", "--out", str(out))
    data = json.loads(out.read_text())
    assert set(data["detection"]["types"]) == set(TYPES)
    assert all(row["planted"] == 2 for row in data["detection"]["types"].values())
    link = data["link"]
    assert link["requests"] == 18 and link["structured_values_found"] == 0 and link["bytes_to_cloud"] > 0
    assert 1 <= link["kept_local"] <= link["by_app"]["notes"]
    quality = data["quality"]
    assert quality["tasks"] == 2 and quality["restored_exactly"] == quality["answers_with_placeholders"]
    latency = data["latency"]
    assert finite(latency["all types"]["p50_ms"], latency["without names"]["p99_ms"])
