"""Where a known model's GGUF is on this machine: inside its package, or assembled from its parts on first use."""

from __future__ import annotations

import importlib
from pathlib import Path

from shared.errors import ModelNotReady
from shared.model_parts import assemble_parts
from shared.model_registry import known_model


def model_gguf(data_dir: Path, name: str) -> Path:
    """The model's GGUF, checked; assembled under <data_dir>/gguf/ when it ships in parts."""
    model = known_model(name)
    if model.parts:
        return assemble_parts(model.parts, model.sha256, data_dir / "gguf" / model.gguf)
    try:
        packaged = importlib.import_module(model.packaged)
    except ImportError as exc:
        raise ModelNotReady(f"{name}: package {model.packaged} is not installed (`make install`)") from exc
    if hasattr(packaged, "assemble"):  # Gemma's package checks its own chunks
        return Path(packaged.assemble(data_dir / "gguf" / model.gguf))
    path = Path(str(packaged.__file__)).parent / model.gguf
    if not path.is_file():
        raise ModelNotReady(f"{name}: {path} is missing; reinstall its package")
    return path
