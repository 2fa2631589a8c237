"""Which experts an engine loads at start, checked against the base model it serves."""

from __future__ import annotations

from pathlib import Path

from cloud.experts.store import ExpertManifest, expert_dir, list_experts, model_hash, read_manifest
from shared.errors import InvalidConfig
from shared.types import ExpertInfo


def resolve_experts(names: list[str], data_dir: Path, model_dir: Path) -> list[tuple[ExpertManifest, Path]]:
    """`['*']` is every trained expert; each must have been trained on exactly this base model."""
    manifests = list_experts(data_dir) if names == ["*"] else [read_manifest(expert_dir(data_dir, n)) for n in names]
    if not manifests:
        return []
    base_sha = model_hash(model_dir)
    for m in manifests:
        if m.base_model_sha256 != base_sha:
            raise InvalidConfig(f"expert {m.name!r} was trained on another base model than {model_dir}: retrain it")
    return [(m, expert_dir(data_dir, m.name)) for m in manifests]


def expert_info(m: ExpertManifest) -> ExpertInfo:
    return ExpertInfo(m.name, m.domain, m.facts, m.recall, tuple(m.merged_from), tuple(m.index_questions))
