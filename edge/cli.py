"""`tandem-edge`: ask a question through the cascade, or inspect the local cache."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

from edge.calibration.command import add_calibrate_parser, calibrate
from edge.calibration.report import print_report
from edge.core.query import Route
from edge.local.model import local_gguf
from shared.cli_flags import accept_config_after_commands, add_common_flags, add_section_flags, config_from_args
from shared.config import (
    CostConfig,
    DaemonConfig,
    EdgeConfig,
    LoggingConfig,
    ResourceConfig,
    TandemConfig,
)
from shared.errors import InvalidRequest, TandemError
from shared.logging_setup import configure_logging
from shared.model_registry import MODELS

EXIT_BAD_INPUT = 2
EXIT_NOT_WRITTEN = 3  # calibrate --write refused a policy worse than the simple choices (see its report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem-edge", description=__doc__)
    add_common_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question through the cascade (needs a running cloud to escalate)")
    ask.add_argument("question", help="the question; '-' reads it from standard input (UTF-8)")
    ask.add_argument("--route", choices=["auto", "edge", "cloud"], default="auto", help="force where it is answered")
    ask.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_section_flags(ask, EdgeConfig, "edge")
    add_section_flags(ask, CostConfig, "cost")
    add_section_flags(ask, LoggingConfig, "logging", flag_prefix="log-")
    serve = sub.add_parser("serve", help="run the OpenAI-compatible daemon until SIGTERM")
    for section, cls, prefix in (
        ("daemon", DaemonConfig, ""),
        ("edge", EdgeConfig, ""),
        ("resources", ResourceConfig, ""),
        ("cost", CostConfig, ""),
        ("logging", LoggingConfig, "log-"),
    ):
        add_section_flags(serve, cls, section, flag_prefix=prefix)
    add_calibrate_parser(sub)
    cache = sub.add_parser("cache", help="inspect or clear the local answer cache")
    cache.add_argument("action", choices=["stats", "clear"])
    prep = sub.add_parser("prepare-model", help="find or assemble the local model's GGUF and check its SHA-256")
    prep.add_argument(
        "--model",
        dest="edge.local.model",
        default=argparse.SUPPRESS,
        choices=list(MODELS),
        help="which known model (default: [edge.local] model)",
    )
    accept_config_after_commands(sub)
    return parser


def read_question(raw: str) -> str:
    if raw != "-":
        return raw
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"standard input is not valid UTF-8 (byte {exc.start})") from exc


async def _ask(config: TandemConfig, question: str, route: Route, as_json: bool) -> None:
    from edge.agent import EdgeAgent
    from edge.core.query import Policy, Query

    async with EdgeAgent(config) as agent:
        namespace = agent.namespace()
        result = await namespace.answer(Query(question=question, policy=Policy(route=route), style=namespace.style))
    if as_json:
        print(json.dumps({"answer": result.answer, **result.report()}, indent=2))
    else:
        print(result.answer)
        print(result.summary())


def _cache(config: TandemConfig, action: str) -> None:
    from edge.agent import open_cache

    cache = open_cache(config)
    try:
        if action == "stats":
            print(json.dumps(asdict(cache.stats()), indent=2))
        else:
            print(f"removed {cache.clear()} cached answers")
    finally:
        cache.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args, "tandem-edge")
    if config is None:
        return EXIT_BAD_INPUT
    # An interactive `ask` stays quiet unless a log flag asks otherwise.
    quiet = args.command == "ask" and not any(k.startswith("logging.") for k in vars(args))
    configure_logging("WARNING" if quiet else config.logging.level, config.logging.format)
    try:
        if args.command == "ask":
            asyncio.run(_ask(config, read_question(args.question), args.route, args.json))
        elif args.command == "calibrate":
            report = asyncio.run(calibrate(config, args))
            print(json.dumps(report, indent=2)) if args.json else print_report(report)
            if "not_written" in report:  # a script that asked for a config must not carry on without one
                return EXIT_NOT_WRITTEN
        elif args.command == "serve":
            from edge.daemon.server import serve

            asyncio.run(serve(config))
        elif args.command == "prepare-model":
            print(json.dumps({"gguf": str(local_gguf(config.edge.local, config.data_dir))}))
        else:
            _cache(config, args.action)
    except InvalidRequest as exc:
        print(f"tandem-edge: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TandemError as exc:
        print(f"tandem-edge: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
