"""`tandem-cloud`: serve the inference service, or prepare the default model."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time

from shared.cli_flags import add_common_flags, add_section_flags, config_from_args
from shared.config import CloudConfig, LoggingConfig
from shared.errors import TandemError
from shared.logging_setup import configure_logging

log = logging.getLogger("tandem.cloud")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem-cloud", description=__doc__)
    add_common_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gRPC inference service until SIGTERM")
    add_section_flags(serve, CloudConfig, "cloud")
    add_section_flags(serve, LoggingConfig, "logging", flag_prefix="log-")
    prep = sub.add_parser("prepare-model", help="convert and verify the default Gemma-3-270M for vLLM")
    prep.add_argument("--force", action="store_true", help="convert again even if a verified copy exists")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args, "tandem-cloud")
    if config is None:
        return 2
    configure_logging(config.logging.level, config.logging.format)
    try:
        if args.command == "serve":
            asyncio.run(_serve(config))
        elif args.command == "prepare-model":
            from cloud.model_prep import prepare_default_model

            started = time.perf_counter()
            path = prepare_default_model(config.data_dir, force=args.force)
            print(json.dumps({"model_dir": str(path), "seconds": round(time.perf_counter() - started, 1)}))
    except TandemError as exc:
        print(f"tandem-cloud: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config) -> None:
    from cloud.server import serve

    await serve(config)


if __name__ == "__main__":
    sys.exit(main())
