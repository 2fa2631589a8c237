"""Smoke test of the fleet benchmark: a few questions on the llama.cpp cloud, a small pipeline run, real Ray."""

from __future__ import annotations

import json

import pytest

from tests.benchmarks.test_benchmark_smoke import finite, run

pytestmark = [pytest.mark.ray, pytest.mark.model]


def test_fleet_benchmark(tmp_path):
    out = tmp_path / "fleet.json"
    flags = ["--backend", "llamacpp", "--sets", "demonyms", "--limit", "12", "--records", "2000"]
    run("benchmarks.fleet", *flags, "--memo", str(tmp_path / "memo.jsonl"), "--out", str(out))
    data = json.loads(out.read_text())
    assert [c["questions"] for c in data["learning_curve"]] == [0, 12]
    assert data["learning_curve"][0]["records"] == 0 and data["learning_curve"][-1]["records"] > 0
    assert finite(*data["with_fleet"].values(), *data["without_fleet"].values())
    assert data["pipeline"]["records"] == 2000 and data["pipeline"]["records_per_s"] > 0
    assert (tmp_path / "fleet.png").stat().st_size > 5_000
