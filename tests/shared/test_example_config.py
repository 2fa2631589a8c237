"""The example config is generated from the schema, is fresh, loads, and names every setting."""

from __future__ import annotations

import tomllib

from pydantic import BaseModel

from shared.config import TandemConfig, load_config
from shared.config_example import EXAMPLE_PATH, render_example


def test_example_config_is_fresh():
    assert EXAMPLE_PATH.read_text() == render_example(), "run `make config-example` and commit the file"


def test_example_config_loads_and_covers_every_key(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("TANDEM_"):
            monkeypatch.delenv(key)
    config = load_config(EXAMPLE_PATH)
    assert config.model_dump() == TandemConfig().model_dump(), "every value written is the default"
    assert_covers(TandemConfig, tomllib.loads(EXAMPLE_PATH.read_text()), "")


def assert_covers(model: type[BaseModel], written: dict, where: str) -> None:
    text = EXAMPLE_PATH.read_text()
    for name, field in model.model_fields.items():
        if field.default is None or (not where and name == "data_dir"):  # shown commented out
            assert f"# {name} = " in text, f"example [{where}] lacks a commented {name}"
            continue
        assert name in written, f"example [{where}] lacks {name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            assert_covers(annotation, written[name], f"{where}.{name}".strip("."))
        elif field.description:
            assert field.description.split()[0] in text, f"example [{where}] lacks the description of {name}"
