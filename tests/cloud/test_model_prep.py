"""The conversion check: the prepared folder agrees with llama.cpp, and a folder without BOS is refused."""

from __future__ import annotations

import json
import shutil

import pytest

from cloud.model_prep import READY_MARKER, is_ready, model_dir, verify_against_llamacpp
from shared.config import default_data_dir
from shared.model_files import model_gguf
from shared.model_registry import DEFAULT_CLOUD_MODEL, GEMMA

pytestmark = pytest.mark.model


def test_prepared_model_matches_llamacpp():
    data_dir = default_data_dir()
    folder = model_dir(data_dir, GEMMA)
    assert is_ready(folder), "make test prepares the model before the suite"
    report = verify_against_llamacpp(folder, model_gguf(data_dir, GEMMA))
    assert report.passed, report
    assert all(c.prompt_ids_match for c in report.checks)
    assert "Paris" in report.checks[0].hf_text


def test_the_default_cloud_model_was_verified_when_prepared():
    """`make models` verified the 1.5B against llama.cpp (re-running that here would cost minutes)."""
    folder = model_dir(default_data_dir(), DEFAULT_CLOUD_MODEL)
    marker = json.loads((folder / READY_MARKER).read_text())
    assert marker["passed"] and marker["model"] == DEFAULT_CLOUD_MODEL
    checks = marker["verification"]["checks"]
    assert all(c["prompt_ids_match"] for c in checks)
    assert min(c["agreeing_prefix"] for c in checks) >= marker["verification"]["required_prefix"]
    assert "Paris" in checks[0]["hf_text"] and "Lima" in checks[1]["hf_text"]


def test_tokenizer_without_bos_fails_verification(tmp_path):
    data_dir = default_data_dir()
    folder = model_dir(data_dir, GEMMA)
    broken = tmp_path / "no-bos"
    shutil.copytree(folder, broken, ignore=shutil.ignore_patterns("model.safetensors", READY_MARKER))
    (broken / "model.safetensors").symlink_to(folder / "model.safetensors")
    spec = json.loads((broken / "tokenizer.json").read_text())
    spec["post_processor"] = None  # what the plain GGUF conversion produces: no <bos>
    (broken / "tokenizer.json").write_text(json.dumps(spec))

    report = verify_against_llamacpp(broken, model_gguf(data_dir, GEMMA))
    assert not report.passed
    assert not any(c.prompt_ids_match for c in report.checks)
    assert not is_ready(broken)
