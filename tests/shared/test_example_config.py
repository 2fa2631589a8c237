"""The documented example config loads and names every setting, so the docs cannot drift from the schema."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

from shared.config import TandemConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "edge" / "daemon" / "tandem.example.toml"


def test_example_config_loads_and_covers_every_key(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("TANDEM_"):
            monkeypatch.delenv(key)
    config = load_config(EXAMPLE)
    assert config.daemon.port == 8080 and config.edge.threshold == 0.5
    written = tomllib.loads(EXAMPLE.read_text())
    for name, field in TandemConfig.model_fields.items():
        assert name in written, f"example lacks {name}"
        if isinstance(field.default_factory, type) and issubclass(field.default_factory, BaseModel):
            missing = set(field.default_factory.model_fields) - set(written[name])
            assert not missing, f"example [{name}] lacks {sorted(missing)}"
