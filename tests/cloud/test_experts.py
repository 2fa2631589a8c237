"""Training memory experts: a tiny table is recalled, an interrupted run resumes, a bad table is refused."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cloud.experts_fixture import TRAIN_FLAGS

pytestmark = pytest.mark.experts


def test_tiny_table_is_recalled_after_a_killed_and_resumed_run(trained_experts):
    cities = trained_experts.manifests["cities"]
    assert cities["recall"] >= 0.98 and cities["facts"] == 6
    assert trained_experts.killed_at_epoch >= 1
    assert f"resuming from epoch {trained_experts.killed_at_epoch}" in trained_experts.resumed_output
    assert trained_experts.killed_at_epoch < cities["epochs"] < 25, "stopped at recall, before the budget"
    assert len(cities["base_model_sha256"]) == 64 and len(cities["table_sha256"]) == 64
    assert cities["index_questions"][0] == "What is the capital of Zorblax?"
    assert not (trained_experts.data_dir / "experts" / "cities" / "checkpoint").exists()
    assert (trained_experts.data_dir / "experts" / "cities" / "adapter_model.safetensors").is_file()
    assert trained_experts.manifests["coins"]["recall"] >= 0.98


def test_malformed_table_is_refused_with_its_line(tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("subject,relation,answer\nPeru,capital,Lima\nChile,capital,\n")
    cmd = [sys.executable, "-m", "cloud.cli", "experts", "train", "--facts", str(table), "--name", "bad", *TRAIN_FLAGS]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"{table}:3: field 'answer' is missing or empty" in done.stderr


def test_merging_two_experts_writes_one_adapter(trained_experts):
    merge = [sys.executable, "-m", "cloud.cli", "experts", "merge", "cities", "coins", "--method", "ties"]
    cmd = [*merge, "--name", "both"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    merged = trained_experts.data_dir / "experts" / "both"
    assert (merged / "adapter_model.safetensors").is_file() and (merged / "adapter_config.json").is_file()
    manifest = json.loads((merged / "tandem-expert.json").read_text())
    assert manifest["merged_from"] == ["cities", "coins"] and manifest["merge_method"] == "ties"
    assert manifest["facts"] == 12 and len(manifest["index_questions"]) == 12
    refused = subprocess.run([*merge, "--name", "cities"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "needs a new name" in refused.stderr


def test_an_epoch_that_lowers_recall_is_undone_with_half_the_rate():
    from cloud.experts.training import after_epoch

    assert after_epoch(0.917, 0.583, 1e-3) == (False, 5e-4)
    assert after_epoch(0.917, 0.917, 1e-3) == (True, 1e-3)
    assert after_epoch(0.5, 0.98, 1e-3) == (True, 1e-3)
