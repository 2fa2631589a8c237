"""Where experts live (`<data_dir>/experts/<name>/`: the peft adapter and its manifest) and what a manifest says."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shared.config.base import check_name
from shared.errors import InvalidRequest
from shared.files import write_atomic

MANIFEST = "tandem-expert.json"


@dataclass(frozen=True)
class ExpertManifest:
    name: str
    domain: str  # what its facts are about (their relations), shown in ModelInfo
    base_model: str
    base_model_sha256: str
    table_sha256: str
    facts: int
    recall: float  # on the training phrasings, teacher-forced greedy
    epochs: int
    training_seconds: float
    rank: int
    index_questions: list[str] = field(default_factory=list)  # one per fact: what clients route by
    merged_from: list[str] = field(default_factory=list)  # set for a merged adapter
    merge_method: str = ""

    def write(self, folder: Path) -> None:
        write_atomic(folder / MANIFEST, json.dumps(asdict(self), indent=1).encode())


def expert_dir(data_dir: Path, name: str) -> Path:
    try:
        check_name(name, "expert name")
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    return data_dir / "experts" / name


def read_manifest(folder: Path) -> ExpertManifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise InvalidRequest(f"{folder} is not a trained expert (no {MANIFEST}): run `tandem-cloud experts train`")
    return ExpertManifest(**json.loads(path.read_text()))


def list_experts(data_dir: Path) -> list[ExpertManifest]:
    root = data_dir / "experts"
    return [read_manifest(d) for d in sorted(root.iterdir()) if (d / MANIFEST).is_file()] if root.is_dir() else []


def model_hash(model_dir: Path) -> str:
    """SHA-256 over the weight files: an adapter only fits the exact base it was trained on."""
    digest = hashlib.sha256()
    for weights in sorted(model_dir.glob("*.safetensors")):
        with weights.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()
