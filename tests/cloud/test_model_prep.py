"""The conversion check: the prepared folder agrees with llama.cpp, and a folder without BOS is refused."""

from __future__ import annotations

import json
import shutil

from cloud.model_prep import default_gguf_path, default_model_dir, is_ready, verify_against_llamacpp
from shared.config import default_data_dir


def test_prepared_model_matches_llamacpp():
    data_dir = default_data_dir()
    model_dir = default_model_dir(data_dir)
    assert is_ready(model_dir), "make test prepares the model before the suite"
    report = verify_against_llamacpp(model_dir, default_gguf_path(data_dir))
    assert report.passed, report
    assert all(c.prompt_ids_match for c in report.checks)
    assert "Paris" in report.checks[0].hf_text


def test_tokenizer_without_bos_fails_verification(tmp_path):
    data_dir = default_data_dir()
    model_dir = default_model_dir(data_dir)
    broken = tmp_path / "no-bos"
    shutil.copytree(model_dir, broken, ignore=shutil.ignore_patterns("model.safetensors", "tandem-ready.json"))
    (broken / "model.safetensors").symlink_to(model_dir / "model.safetensors")
    spec = json.loads((broken / "tokenizer.json").read_text())
    spec["post_processor"] = None  # what the plain GGUF conversion produces: no <bos>
    (broken / "tokenizer.json").write_text(json.dumps(spec))

    report = verify_against_llamacpp(broken, default_gguf_path(data_dir))
    assert not report.passed
    assert not any(c.prompt_ids_match for c in report.checks)
    assert not is_ready(broken)
