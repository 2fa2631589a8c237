"""Smoke test of the draft-verification benchmark against the session's vLLM cloud (the fast pair)."""

from __future__ import annotations

import json

from tests.benchmarks.test_benchmark_smoke import run
from tests.settings import API_KEY


def test_verify_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "verify.json"
    cloud = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY]
    run(
        "benchmarks.verify",
        *cloud,
        "--sets",
        "capitals",
        "--per-set",
        "3",
        "--long",
        "1",
        "--daemon",
        "1",
        "--out",
        str(out),
    )
    data = json.loads(out.read_text())
    assert set(data["sets"]) == {"capitals", "long answers"}
    for row in data["sets"].values():
        assert row["exact"]["identical_to_off"] == row["questions"], "exact verification never changes an answer"
        assert row["off"]["kept_tokens"] == 0 and row["exact"]["draft_tokens"] > 0
        assert 0.0 <= row["lenient"]["fully_kept"] <= 1.0
    daemon = data["through_daemon"]
    for mode in ("off", "exact", "lenient"):
        assert 0 < daemon[mode]["first_chunk_ms"] <= daemon[mode]["end_to_end_ms"], "timed through each daemon"
