"""Config precedence: defaults < TOML file < environment < CLI flags; bad values fail loudly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloud.cli import build_parser
from shared.cli_flags import overrides_from_args
from shared.config import CONFIG_ENV_VAR, load_config


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in list(__import__("os").environ):
        if key.startswith("TANDEM_"):
            monkeypatch.delenv(key)


def test_config_path_from_environment(tmp_path, monkeypatch):
    toml = tmp_path / "tandem.toml"
    toml.write_text("[cloud]\nport = 6001\n")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(toml))
    assert load_config().cloud.port == 6001


def test_defaults():
    config = load_config()
    assert config.cloud.port == 50051
    assert config.cloud.backend == "vllm"
    assert config.cloud.api_keys == []


def test_file_then_env_then_flags(tmp_path, monkeypatch):
    toml = tmp_path / "tandem.toml"
    toml.write_text('[cloud]\nport = 6000\nmax_output_tokens = 64\nbackend = "llamacpp"\n')
    monkeypatch.setenv("TANDEM_CLOUD__PORT", "7000")
    monkeypatch.setenv("TANDEM_CLOUD__API_KEYS", '["a","b"]')
    args = build_parser().parse_args(["serve", "--max-output-tokens", "99", "--log-level", "DEBUG"])
    config = load_config(toml, overrides_from_args(args))
    assert config.cloud.backend == "llamacpp"  # file
    assert config.cloud.port == 7000  # env beats file
    assert config.cloud.api_keys == ["a", "b"]
    assert config.cloud.max_output_tokens == 99  # flag beats file
    assert config.logging.level == "DEBUG"


def test_invalid_values_are_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv("TANDEM_CLOUD__PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        load_config()
    monkeypatch.delenv("TANDEM_CLOUD__PORT")
    toml = tmp_path / "bad.toml"
    toml.write_text("[cloud]\nno_such_key = 1\n")
    with pytest.raises(ValidationError, match="no_such_key"):
        load_config(toml)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.toml")


def test_cli_reports_bad_config(capsys):
    from cloud.cli import main

    assert main(["serve", "--max-concurrent-requests", "0"]) == 2
    assert "max_concurrent_requests" in capsys.readouterr().err
