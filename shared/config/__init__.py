"""One typed configuration tree for Tandem: defaults < TOML file < environment < CLI flags.

Environment variables use the prefix ``TANDEM_`` and ``__`` between levels,
e.g. ``TANDEM_CLOUD__ENGINE__BACKEND=llamacpp``. The TOML file has one table per section (``[cloud.engine]``,
``[edge.confidence]``, ...); its path comes from ``--config`` or ``TANDEM_CONFIG``. One module per top-level
section; this one assembles the tree and loads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from shared.config.base import Section, check_name, check_namespace
from shared.config.cloud import (
    AuthConfig,
    CloudConfig,
    CloudExpertsConfig,
    EngineConfig,
    LimitsConfig,
    RayConfig,
    TenantQuotaConfig,
    TlsConfig,
)
from shared.config.common import CostConfig, LoggingConfig
from shared.config.daemon import DaemonConfig, ResourceConfig
from shared.config.edge import (
    OFF,
    ROUTE,
    CacheConfig,
    ConfidenceConfig,
    EdgeConfig,
    ExpertsConfig,
    GuardConfig,
    LocalModelConfig,
    RoutingConfig,
    UplinkConfig,
)
from shared.config.fleet import CloudFleetConfig, EdgeFleetConfig

__all__ = [
    "CONFIG_ENV_VAR",
    "OFF",
    "ROUTE",
    "AuthConfig",
    "CacheConfig",
    "CloudConfig",
    "CloudExpertsConfig",
    "CloudFleetConfig",
    "ConfidenceConfig",
    "CostConfig",
    "DaemonConfig",
    "EdgeConfig",
    "EdgeFleetConfig",
    "EngineConfig",
    "ExpertsConfig",
    "GuardConfig",
    "LimitsConfig",
    "LocalModelConfig",
    "LoggingConfig",
    "RayConfig",
    "ResourceConfig",
    "RoutingConfig",
    "Section",
    "TandemConfig",
    "TenantQuotaConfig",
    "TlsConfig",
    "UplinkConfig",
    "check_name",
    "check_namespace",
    "default_data_dir",
    "load_config",
]

CONFIG_ENV_VAR = "TANDEM_CONFIG"


def default_data_dir() -> Path:
    """Where Tandem keeps prepared models and local state unless configured otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tandem"


class TandemConfig(BaseSettings):
    """The whole configuration; each program reads the sections it needs."""

    model_config = SettingsConfigDict(
        env_prefix="TANDEM_", env_nested_delimiter="__", extra="forbid", validate_assignment=True
    )

    data_dir: Path = Field(default_factory=default_data_dir, description="Prepared models and local state.")
    cloud: CloudConfig = Field(default_factory=CloudConfig)
    edge: EdgeConfig = Field(default_factory=EdgeConfig)
    cost: CostConfig = Field(default_factory=CostConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    resources: ResourceConfig = Field(default_factory=ResourceConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: CLI overrides (init), then environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_config(config_file: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TandemConfig:
    """Build the config tree; `overrides` (from CLI flags) win over everything else."""
    path = config_file or os.environ.get(CONFIG_ENV_VAR)
    if not path:
        return TandemConfig(**(overrides or {}))
    if not Path(path).is_file():
        raise FileNotFoundError(f"config file not found: {path}")

    class FileBacked(TandemConfig):
        model_config = SettingsConfigDict(toml_file=Path(str(path)))

    return FileBacked(**(overrides or {}))
