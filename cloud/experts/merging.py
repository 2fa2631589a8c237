"""Merges trained experts into one adapter with peft's `add_weighted_adapter` — the other answer to "several
fine-tunes, one model", measured against routing in benchmarks.experts."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from cloud.experts.store import ExpertManifest, expert_dir, model_hash, read_manifest
from shared.errors import InvalidRequest

METHODS = ("linear", "ties", "dare_ties", "svd")


def merge_experts(
    names: list[str], method: str, name: str, data_dir: Path, model_dir: Path, density: float = 0.5
) -> ExpertManifest:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    if method not in METHODS:
        raise InvalidRequest(f"merge method {method!r}: choose one of {', '.join(METHODS)}")
    if len(set(names)) < 2:
        raise InvalidRequest("merging needs at least two different experts")
    if name in names:
        raise InvalidRequest(f"the merged adapter needs a new name, not {name!r}")
    manifests = [read_manifest(expert_dir(data_dir, n)) for n in names]
    base_sha = model_hash(model_dir)
    for m in manifests:
        if m.base_model_sha256 != base_sha:
            raise InvalidRequest(f"expert {m.name!r} was trained on another base model than {model_dir}")
    started = time.perf_counter()
    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(expert_dir(data_dir, names[0])), adapter_name=names[0])
    for n in names[1:]:
        model.load_adapter(str(expert_dir(data_dir, n)), adapter_name=n)
    options = {"density": density} if method in ("ties", "dare_ties") else {}
    rank = max(m.rank for m in manifests)
    model.add_weighted_adapter(
        names, [1.0] * len(names), name, combination_type=method, svd_rank=rank if method == "svd" else None, **options
    )
    out = expert_dir(data_dir, name)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        model.save_pretrained(tmp, selected_adapters=[name])  # peft writes a non-default adapter to tmp/<name>/
        shutil.rmtree(out, ignore_errors=True)
        shutil.move(str(Path(tmp) / name), out)
    manifest = ExpertManifest(
        name=name,
        domain=", ".join(m.domain for m in manifests),
        base_model=manifests[0].base_model,
        base_model_sha256=base_sha,
        table_sha256="+".join(m.table_sha256[:12] for m in manifests),
        facts=sum(m.facts for m in manifests),
        recall=0.0,  # not measured here: benchmarks.experts measures the merged adapter served by vLLM
        epochs=0,
        training_seconds=round(time.perf_counter() - started, 1),
        rank=rank,
        index_questions=[q for m in manifests for q in m.index_questions],
        merged_from=list(names),
        merge_method=method,
    )
    manifest.write(out)
    return manifest
