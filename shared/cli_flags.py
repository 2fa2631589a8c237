"""CLI flags generated from config sections, so flags, env vars and the TOML file share one schema."""

from __future__ import annotations

import argparse
import json
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo


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


@dataclass(frozen=True)
class SectionFlag:
    flag: str  # without the leading dashes, e.g. "cache-enabled"
    dest: str  # dotted path in the config tree, e.g. "edge.cache.enabled"
    section: str  # the table it belongs to, e.g. "edge.cache"
    field: FieldInfo


def section_flags(section: type[BaseModel], dest_prefix: str, flag_prefix: str = "") -> Iterator[SectionFlag]:
    """One flag per field, nested sections included; a nested section's `flag_prefix` class attribute keeps its
    flags readable and unique (`--cache-enabled`, `--cloud-address`)."""
    for name, field in section.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested_prefix = flag_prefix + getattr(annotation, "flag_prefix", "")
            yield from section_flags(annotation, f"{dest_prefix}.{name}", nested_prefix)
            continue
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        flag = f"{flag_prefix}{extra.get('flag', name.replace('_', '-'))}"
        yield SectionFlag(flag, f"{dest_prefix}.{name}", dest_prefix, field)


def add_section_flags(
    parser: argparse.ArgumentParser, section: type[BaseModel], dest_prefix: str, flag_prefix: str = ""
) -> None:
    """One `--field-name` flag per field (nested sections in their own groups); unset flags stay out of the
    overrides."""
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in section_flags(section, dest_prefix, flag_prefix):
        if f.section not in groups:
            env = "TANDEM_" + f.section.upper().replace(".", "__")
            groups[f.section] = parser.add_argument_group(f"[{f.section}] settings (also {env}__<NAME>)")
        annotation = f.field.annotation
        # A bare boolean flag (`--insecure`) means true; `--cache-enabled false` still works.
        options: dict[str, Any] = {"nargs": "?", "const": True} if annotation is bool else {}
        if typing.get_origin(annotation) is Literal:
            options["choices"] = typing.get_args(annotation)
        default = f.field.get_default(call_default_factory=True)
        groups[f.section].add_argument(
            f"--{f.flag}",
            dest=f.dest,
            metavar=None if "choices" in options else f.dest.rsplit(".", 1)[1].upper(),
            type=_parser_for(annotation),
            default=argparse.SUPPRESS,
            help=f"{f.field.description} (default: {default!r})",
            **options,
        )


def overrides_from_flags(section: type[BaseModel], dest_prefix: str, **flags: Any) -> dict[str, Any]:
    """`cache_enabled=False` as `--cache-enabled false` would set it: the nested overrides for load_config.

    For the project's own callers (tests, benchmarks) that set a few settings by their flag names.
    """
    by_flag = {f.flag.replace("-", "_"): f.dest for f in section_flags(section, dest_prefix)}
    if unknown := sorted(set(flags) - set(by_flag)):
        raise ValueError(f"no flag named {', '.join(unknown)} in [{dest_prefix}]")
    return overrides_from_args(argparse.Namespace(**{by_flag[name]: value for name, value in flags.items()}))


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


def edge_config(data_dir: Any, **edge_flags: Any):
    """The config tree with [edge] settings named as their flags (`threshold=1.0, cache_enabled=False`)."""
    from shared.config import EdgeConfig, load_config

    return load_config(overrides={"data_dir": data_dir, **overrides_from_flags(EdgeConfig, "edge", **edge_flags)})


def accept_config_after_commands(subcommands: argparse._SubParsersAction) -> None:
    """`tandem-edge serve --config F` as well as `tandem-edge --config F serve` (the later one wins)."""
    for command in subcommands.choices.values():
        command.add_argument("--config", default=argparse.SUPPRESS, help="TOML config file (also TANDEM_CONFIG)")


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
