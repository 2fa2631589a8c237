"""Every benchmark and the demo run end to end in a small size; outputs are finite numbers of the right shape."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.settings import API_KEY

pytestmark = pytest.mark.model


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def test_models_benchmark(tmp_path):
    out = tmp_path / "models.json"
    run("benchmarks.models", "--models", "smollm2-135m", "--sets", "capitals,arithmetic", "--per-set", "3",
        "--out", str(out))  # fmt: skip
    data = json.loads(out.read_text())
    assert data["questions"] == 6
    (row,) = data["models"]
    assert row["model"] == "smollm2-135m" and row["best_style"] in ("few_shot_qa", "chat") and row["rss_mib"] > 0
    for style in ("few_shot_qa", "chat"):
        assert 0.0 <= row[style]["accuracy"] <= 1.0 and row[style]["tokens_per_s"] > 0
        kinds = set(row[style]["by_set"])
        assert "capital" in kinds and all(k == "capital" or k.startswith("arith") for k in kinds), kinds


def test_edge_logprobs_benchmark(tmp_path):
    out = tmp_path / "edge.json"
    run("benchmarks.edge_logprobs", "--tokens", "4", "--rounds", "1", "--out", str(out))
    data = json.loads(out.read_text())
    assert finite(data["tandem_tok_s"], data["logits_all_tok_s"], data["speedup"], data["max_abs_logprob_diff"])
    assert data["max_abs_logprob_diff"] < 1e-3


def test_cache_hits_benchmark(tmp_path):
    out = tmp_path / "cache.json"
    run("benchmarks.cache_hits", "--n", "20", "--out", str(out))
    data = json.loads(out.read_text())
    assert data["n"] == 20 and finite(data["p50_ms"], data["p95_ms"], data["p99_ms"])


def test_cloud_streams_benchmark(tmp_path):
    out = tmp_path / "cloud.json"
    run(
        "benchmarks.cloud_streams",
        "--backend",
        "llamacpp",
        "--concurrency",
        "1",
        "2",
        "--tokens",
        "4",
        "--rounds",
        "1",
        "--out",
        str(out),
    )
    data = json.loads(out.read_text())
    assert [r["concurrency"] for r in data["rows"]] == [1, 2]
    for row in data["rows"]:
        assert finite(row["ttft_ms_p50"], row["stream_tok_s_p50"], row["aggregate_tok_s"])


def test_demo_runs_the_cascade():
    done = run("shared.demo", "--backend", "llamacpp")
    assert "served_by=edge" in done.stdout
    assert "served_by=cloud" in done.stdout
    assert "served_by=cache" in done.stdout
    assert "'redacted': ['email']" in done.stdout and "olga.petrova" not in done.stdout.split("egress log")[1]
    assert "edge daemon and cloud service stopped" in done.stdout


def test_daemon_overhead_benchmark(tmp_path):
    out = tmp_path / "daemon.json"
    run("benchmarks.daemon_overhead", "--n", "6", "--out", str(out))
    data = json.loads(out.read_text())
    assert finite(
        data["edge_in_process_p50_ms"],
        data["edge_http_p50_ms"],
        data["cache_hit_http_p50_ms"],
        data["daemon_overhead_p50_ms"],
    )


def test_quality_benchmark(tmp_path):
    out = tmp_path / "quality.json"
    run(
        "benchmarks.quality",
        "--backend",
        "llamacpp",
        "--limit",
        "16",
        "--memo",
        str(tmp_path / "memo.jsonl"),
        "--out",
        str(out),
    )
    data = json.loads(out.read_text())
    assert (tmp_path / "quality.png").stat().st_size > 10_000
    assert data["questions"] == 16
    assert finite(data["edge_only_accuracy"], data["cloud_only_accuracy"], data["oracle"]["accuracy"])
    estimators = "mean_logprob min_logprob quantile margin entropy router router+mean_logprob learned learned+router"
    assert set(data["estimators"]) == {*estimators.split(), "edge_cloud_agreement", "mean_logprob+context"}
    costs = data["verification"]["mean_logprob"]["cost_per_question"]
    assert (tmp_path / "quality_cost.png").is_file() and costs["verified"] == costs["off"], "llama.cpp verifies none"
    assert finite(data["cache_as_context"]["edge_only_accuracy"])
    assert finite(data["router"]["pre_generation"]["edge_seconds_saved"])
    assert 0.0 <= data["router"]["weight_on_logprob"] <= 1.0
    for est in data["estimators"].values():
        assert 0.0 <= est["auroc"] <= 1.0 or math.isnan(est["auroc"])
        assert set(est["accuracy_at"]) == {"0.25", "0.50", "0.75"}
        assert finite(*est["accuracy_at"].values())
        shares = [p[0] for p in est["curve"]]
        assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
        assert set(est["share_to_reach"]) == set(est["random_share_to_reach"]) == {"0.50", "0.80", "0.95"}
        assert est["gap_recovered"] is None or finite(est["gap_recovered"])


def test_latency_benchmark(tmp_path):
    out = tmp_path / "latency.json"
    run(
        "benchmarks.latency",
        "--backend",
        "llamacpp",
        "--n",
        "12",
        "--degraded",
        "3",
        "--memo",
        str(tmp_path / "memo.jsonl"),
        "--out",
        str(out),
    )
    data = json.loads(out.read_text())
    paths = data["latency_by_path"]
    assert paths["degraded"]["n"] == 3 and finite(paths["degraded"]["p50_ms"])
    assert sum(p["n"] for k, p in paths.items() if k in ("edge", "cloud")) == 12
    assert finite(*data["cost_per_1000_queries"].values(), data["time_to_first_token"]["edge"]["p50_ms"])


def test_compare_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "compare.json"
    run(
        "benchmarks.compare",
        "--parts",
        "edge",
        "cloud",
        "cache",
        "--tokens",
        "8",
        "--rounds",
        "1",
        "--concurrency",
        "1",
        "2",
        "--peers",
        "vllm-grpc",
        "--cloud-address",
        vllm_cloud.address,
        "--cloud-api-key",
        API_KEY,
        "--out",
        str(out),
        timeout=900,
    )
    data = json.loads(out.read_text())
    assert finite(data["edge"]["overhead_ratio"], data["cache"]["cache_hit_http_p50_ms"])
    assert [r["concurrency"] for r in data["cloud"]["rows"]] == [1, 2]
    for row in data["cloud"]["rows"]:
        assert finite(row["tandem_vs_vllm-grpc"], row["tandem_added_ttft_ms_vs_vllm-grpc"])
    peers = data["cloud"]["peers"]
    for c in ("1", "2"):  # JSON keys
        assert peers["vllm-grpc"][c]["tokens"] == peers["tandem_during_vllm-grpc"][c]["tokens"] == int(c) * 8


def test_semantic_cache_benchmark(tmp_path):
    out = tmp_path / "semantic.json"
    run("benchmarks.semantic_cache", "--n", "2", "--entries", "300", "--lookups", "20", "--out", str(out))
    data = json.loads(out.read_text())
    classes, stream = data["classes"], data["audits"]["similarity_only, audits 0.05"]
    assert classes["guarded"]["false_hit_rate"] < classes["similarity_only"]["false_hit_rate"] <= 1.0
    assert set(classes["guarded"]["per_class"]) >= {"negation", "operand order", "reversed conversion", "unit"}
    assert stream["curve"] and stream["bound"]["audited"] >= stream["curve"][-1]["audited"] > 0
    assert data["latency"]["entries"] == 300 and finite(*data["latency"].values())


def test_stream_latency_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "stream.json"
    cloud = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY]
    run("benchmarks.stream_latency", *cloud, "--n", "3", "--out", str(out))
    data = json.loads(out.read_text())
    assert data["n"] == 3 and finite(*data["p50_ms"].values(), data["added_p50_ms"])
    assert data["p50_ms"]["daemon_routed_cloud"] > 0 and data["content_chunks_p50"] >= 1


def test_adaptation_benchmark(tmp_path):
    out = tmp_path / "adaptation.json"
    memo = str(tmp_path / "memo.jsonl")
    run(
        "benchmarks.adaptation",
        "--backend",
        "llamacpp",
        "--limit",
        "30",
        "--feedback",
        "0",
        "10",
        "--memo",
        memo,
        "--out",
        str(out),
    )
    data = json.loads(out.read_text())
    assert [r["feedback"] for r in data["rows"]] == [0, 10] and data["evaluated_on"] == 20
    assert finite(*(r["x_cloud_only_at_0.50"] for r in data["rows"]), data["logprob_only_x_cloud_only_at_0.50"])


def test_served_share_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "share.json"
    cloud = ["--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY]
    run("benchmarks.served_share", *cloud, "--limit", "8", "--clients", "2", "--sets", "capitals", "--out", str(out))
    data = json.loads(out.read_text())
    assert data["questions"] == 8 and finite(data["escalated_share"], data["accuracy"], data["daemon_realized_share"])
    assert 0.0 <= data["predicted_held_out_share"] <= 1.0 and 0.0 <= data["device_shifted_share"] <= 1.0


def test_self_consistency_benchmark(tmp_path):
    out = tmp_path / "sc.json"
    memo = str(tmp_path / "memo.jsonl")
    run("benchmarks.self_consistency", "--sets", "capitals", "--n", "6", "--k", "2", "--memo", memo, "--out", str(out))
    data = json.loads(out.read_text())
    assert data["questions"] == 6 and data["edge_time_factor"] > 1.0
    assert set(data["auroc"]) == {"mean_logprob", "agreement", "mean_logprob+agreement"}


def test_soak_benchmark(tmp_path):
    out = tmp_path / "soak.json"
    run("benchmarks.soak", "--backend", "llamacpp", "--clients", "4", "--seconds", "4", "--warmup-seconds", "1",
        "--out", str(out))  # fmt: skip
    data = json.loads(out.read_text())
    assert data["daemon"]["errors"] == 0 and data["cloud"]["errors"] == 0
    assert set(data["daemon"]["kinds"]) == {"cache", "edge", "cloud"}, "the load mixes all three paths"
    assert all(finite(r["growth"]) for r in data["rss"].values())


def test_tls_cost_benchmark(tmp_path):
    out = tmp_path / "tls.json"
    run("benchmarks.tls_cost", "--backend", "llamacpp", "--n", "2", "--tokens", "8", "--out", str(out))
    data = json.loads(out.read_text())
    assert data["plaintext"]["tokens_p50"] > 0 and data["mtls"]["tokens_p50"] == data["plaintext"]["tokens_p50"]
    assert finite(data["total_ratio_mtls_vs_plain"], data["ttft_delta_ms"])


def test_isolation_benchmark(tmp_path):
    out = tmp_path / "isolation.json"
    run("benchmarks.isolation", "--backend", "llamacpp", "--apps", "2", "--n", "3", "--out", str(out))
    data = json.loads(out.read_text())
    assert data["requests"] == 3 * 4 and data["cross_namespace_answers"] == 0


def test_capacity_benchmark(tmp_path, vllm_cloud):
    out = tmp_path / "capacity.json"
    run(
        "benchmarks.capacity",
        *("--concurrency", "1", "2", "--lengths", "4", "8", "--rounds", "1", "--p99-target-s", "600"),
        *("--cloud-address", vllm_cloud.address, "--cloud-api-key", API_KEY, "--out", str(out)),
    )
    data = json.loads(out.read_text())
    assert [(p["answer_tokens"], p["concurrency"]) for p in data["points"]] == [(4, 1), (4, 2), (8, 1), (8, 2)]
    assert all(p["tokens"] == p["requests"] * p["answer_tokens"] for p in data["points"])
    assert data["replica_capacity_req_s"] > 0 and data["replicas_needed"] >= 1
    assert (tmp_path / "capacity.png").stat().st_size > 0
    # The same points at a target no load met: projected without measuring, and plotted as "none".
    strict = tmp_path / "strict.json"
    run("benchmarks.capacity", "--points", str(out), "--p99-target-s", "0.000001", "--out", str(strict))
    projected = json.loads(strict.read_text())
    assert projected["points"] == data["points"] and projected["replicas_needed"] is None
    assert (tmp_path / "strict.png").stat().st_size > 0
