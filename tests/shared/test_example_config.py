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
    assert config.daemon.port == 8080 and config.edge.confidence.threshold == 0.5
    assert_covers(TandemConfig, tomllib.loads(EXAMPLE.read_text()), "")


def assert_covers(model: type[BaseModel], written: dict, where: str) -> None:
    text = EXAMPLE.read_text()
    for name, field in model.model_fields.items():
        if field.default is None:  # TOML has no null: such a setting is shown commented out
            assert f"# {name} = " in text, f"example [{where}] lacks a commented {name}"
            continue
        assert name in written, f"example [{where}] lacks {name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            assert_covers(annotation, written[name], f"{where}.{name}".strip("."))
