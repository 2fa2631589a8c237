"""CLI flags generated from config sections, so flags, env vars and the TOML file share one schema."""

from __future__ import annotations

import argparse
import json
import sys
import typing
from typing import Any

from pydantic import BaseModel


def _parser_for(annotation: Any):
    origin = typing.get_origin(annotation)
    if annotation is bool:
        return lambda v: v.lower() in ("1", "true", "yes", "on")
    if origin is list:
        return lambda v: json.loads(v) if v.startswith("[") else [x for x in v.split(",") if x]
    if origin is dict:  # JSON, or `key=value,key=value`
        return lambda v: json.loads(v) if v.startswith("{") else dict(x.split("=", 1) for x in v.split(",") if x)
    if annotation in (int, float):
        return annotation
    return str


def add_section_flags(
    parser: argparse.ArgumentParser, section: type[BaseModel], dest_prefix: str, flag_prefix: str = ""
) -> None:
    """One `--field-name` flag per field; unset flags stay out of the overrides.

    A nested section (e.g. `[edge.cache]`) gets its own group; its `flag_prefix` class attribute keeps its
    flags readable and unique (`--cache-enabled`, `--cloud-address`).
    """
    env = "TANDEM_" + dest_prefix.upper().replace(".", "__")
    group = parser.add_argument_group(f"[{dest_prefix}] settings (also {env}__<NAME>)")
    for name, field in section.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested_prefix = flag_prefix + getattr(annotation, "flag_prefix", "")
            add_section_flags(parser, annotation, f"{dest_prefix}.{name}", nested_prefix)
            continue
        default = field.get_default(call_default_factory=True)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        # A bare boolean flag (`--insecure`) means true; `--cache-enabled false` still works.
        boolean = {"nargs": "?", "const": True} if annotation is bool else {}
        group.add_argument(
            f"--{flag_prefix}{extra.get('flag', name.replace('_', '-'))}",
            dest=f"{dest_prefix}.{name}",
            metavar=name.upper(),
            type=_parser_for(annotation),
            default=argparse.SUPPRESS,
            help=f"{field.description} (default: {default!r})",
            **boolean,
        )


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Turns `section.field` destinations back into a nested dict for load_config."""
    nested: dict[str, Any] = {}
    for dest, value in vars(args).items():
        if "." in dest:
            *path, name = dest.split(".")
            target = nested
            for part in path:
                target = target.setdefault(part, {})
            target[name] = value
    return nested


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML config file (also TANDEM_CONFIG)")
    parser.add_argument(
        "--data-dir",
        dest="root.data_dir",
        default=argparse.SUPPRESS,
        help="prepared models and local state (default: ~/.cache/tandem)",
    )


def config_from_args(args: argparse.Namespace, prog: str):
    """The config tree for parsed CLI args, or None after printing why it is invalid."""
    from pydantic import ValidationError

    from shared.config import load_config

    overrides = overrides_from_args(args)
    overrides.update(overrides.pop("root", {}))
    try:
        return load_config(args.config, overrides)
    except (ValidationError, FileNotFoundError) as exc:
        print(f"{prog}: invalid configuration:\n{exc}", file=sys.stderr)
        return None
