"""Config precedence: defaults < TOML file < environment < CLI flags; bad values fail loudly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cloud.cli import build_parser
from shared.cli_flags import edge_config, overrides_from_args
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
    assert config.cloud.engine.backend == "vllm"
    assert config.cloud.auth.api_keys == []


def test_file_then_env_then_flags(tmp_path, monkeypatch):
    toml = tmp_path / "tandem.toml"
    toml.write_text(
        '[cloud]\nport = 6000\n[cloud.limits]\nmax_output_tokens = 64\n[cloud.engine]\nbackend = "llamacpp"\n'
    )
    monkeypatch.setenv("TANDEM_CLOUD__PORT", "7000")
    monkeypatch.setenv("TANDEM_CLOUD__AUTH__API_KEYS", '["a","b"]')
    args = build_parser().parse_args(["serve", "--max-output-tokens", "99", "--log-level", "DEBUG"])
    config = load_config(toml, overrides_from_args(args))
    assert config.cloud.engine.backend == "llamacpp"  # file
    assert config.cloud.port == 7000  # env beats file
    assert config.cloud.auth.api_keys == ["a", "b"]
    assert config.cloud.limits.max_output_tokens == 99  # flag beats file
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


def test_edge_tables_from_file_env_and_flags(tmp_path, monkeypatch):
    from edge.cli import build_parser as edge_parser

    toml = tmp_path / "tandem.toml"
    toml.write_text('[edge.confidence]\nthreshold = 0.7\nestimator = "margin"\n[edge.cache]\nenabled = false\n')
    monkeypatch.setenv("TANDEM_EDGE__ROUTING__K", "4")
    args = edge_parser().parse_args(
        ["serve", "--cloud-address", "10.0.0.1:1", "--cache-semantic-threshold", "0.95", "--router-weight", "0.3"]
    )
    edge = load_config(toml, overrides_from_args(args)).edge
    assert edge.confidence.threshold == 0.7 and edge.confidence.estimator == "margin"  # file
    assert edge.cache.enabled is False  # file, beside a flag of the same table
    assert edge.cache.semantic_threshold == 0.95 and edge.routing.weight == 0.3  # flags
    assert edge.routing.k == 4  # env
    assert edge.uplink.address == "10.0.0.1:1"


@pytest.mark.parametrize(
    ("flat", "moved"),
    [
        ("threshold = 0.6", r"\[edge.confidence\] threshold"),
        ('cloud_address = "h:1"', r"\[edge.uplink\] address"),
        ("router_k = 3", r"\[edge.routing\] k"),
        ("cache_enabled = false", r"\[edge.cache\] enabled"),
        ("[cloud]\ntls_cert = 'c.pem'", r"\[cloud.tls\] cert"),
        ("[cloud]\nbackend = 'llamacpp'", r"\[cloud.engine\] backend"),
        ("[cloud]\ntenant_burst = 4", r"\[cloud.tenants\] burst"),
        ("[cloud]\nexperts = ['cities']", r"\[cloud.experts\] serve"),
    ],
)
def test_flat_keys_of_older_files_are_refused_naming_the_new_key(tmp_path, flat, moved):
    toml = tmp_path / "old.toml"
    toml.write_text(flat if flat.startswith("[") else f"[edge]\n{flat}\n")
    with pytest.raises(ValidationError, match=f"has moved: set {moved} instead"):
        load_config(toml)
    toml.write_text("[edge]\nno_such_key = 1\n")
    with pytest.raises(ValidationError, match="no_such_key"):
        load_config(toml)


def test_settings_by_flag_name_land_where_the_flags_put_them(tmp_path):
    config = edge_config(tmp_path, threshold=0.7, cache_enabled=False, cloud_address="h:1", router_k=3)
    assert config.edge.confidence.threshold == 0.7 and not config.edge.cache.enabled
    assert config.edge.uplink.address == "h:1" and config.edge.routing.k == 3
    with pytest.raises(ValueError, match="no flag named semantic_cache"):
        edge_config(tmp_path, semantic_cache=False)
