"""`tandem-cloud`: serve the inference service, prepare the default model, make certificates, manage keys, build
fleet routers."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path

from cloud.experts.commands import add_experts_parser, run_experts
from cloud.fleet.commands import add_fleet_parser, run_fleet
from shared.cli_flags import accept_config_after_commands, add_common_flags, add_section_flags, config_from_args
from shared.config import CloudConfig, LoggingConfig
from shared.errors import TandemError
from shared.logging_setup import configure_logging
from shared.model_registry import CLOUD_MODELS, DEFAULT_CLOUD_MODEL

log = logging.getLogger("tandem.cloud")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem-cloud", description=__doc__)
    add_common_flags(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gRPC inference service until SIGTERM")
    add_section_flags(serve, CloudConfig, "cloud")
    add_section_flags(serve, LoggingConfig, "logging", flag_prefix="log-")
    prep = sub.add_parser("prepare-model", help="assemble, convert and verify a known cloud model for vLLM")
    prep.add_argument(
        "--model",
        dest="cloud.engine.known_model",
        default=argparse.SUPPRESS,
        choices=CLOUD_MODELS,
        help=f"which model (default: [cloud.engine] known_model, {DEFAULT_CLOUD_MODEL})",
    )
    prep.add_argument("--force", action="store_true", help="convert again even if a verified copy exists")
    certs = sub.add_parser("certs", help="write a development CA, server and client certificate (TLS, mTLS)")
    certs.add_argument("--out", required=True, help="folder for ca.pem, server(-key).pem, client(-key).pem")
    certs.add_argument("--hosts", default="127.0.0.1,localhost", help="names and addresses the server answers to")
    certs.add_argument("--client-name", default="tandem-edge", help="client certificate CN (the tenant under mTLS)")
    certs.add_argument("--days", type=int, default=825, help="validity in days")
    keys = sub.add_parser("keys", help="per-tenant API keys, stored hashed (changes apply without a restart)")
    keys.add_argument(
        "--keys-file",
        dest="cloud.auth.keys_file",
        default=argparse.SUPPRESS,
        help="default: <data_dir>/cloud/keys.json",
    )
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    add = keys_sub.add_parser("add", help="make a key for a tenant; it is printed once and never stored")
    add.add_argument("--tenant", required=True)
    keys_sub.add_parser("list", help="key ids, tenants and states (never the keys)")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    add_experts_parser(sub)
    add_fleet_parser(sub)
    accept_config_after_commands(sub)
    return parser


def _certs(args: argparse.Namespace) -> None:

    from cloud.certs import write_dev_certs

    hosts = tuple(h.strip() for h in args.hosts.split(",") if h.strip())
    paths = write_dev_certs(Path(args.out), hosts, args.client_name, args.days)
    print(json.dumps({name: str(path) for name, path in paths.items()}, indent=1))


def _keys(args: argparse.Namespace, config) -> int:
    from dataclasses import asdict

    from cloud.keys import KeyStore
    from cloud.server import keys_path

    store = KeyStore(keys_path(config))
    try:
        if args.keys_command == "add":
            record, key = store.add(args.tenant)
            print(json.dumps({"key_id": record.key_id, "tenant": record.tenant, "key": key}))
            print("tandem-cloud: store the key now; it cannot be shown again", file=sys.stderr)
        elif args.keys_command == "list":
            for record in store.list():
                print(json.dumps({k: v for k, v in asdict(record).items() if k != "sha256"}))
        else:
            print(json.dumps({"key_id": args.key_id, "revoked": store.revoke(args.key_id).revoked}))
    except (KeyError, ValueError) as exc:
        print(f"tandem-cloud: {exc.args[0]}", file=sys.stderr)
        return 1
    return 0


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
            from cloud.model_prep import prepare_model

            started = time.perf_counter()
            path = prepare_model(config.data_dir, config.cloud.engine.known_model, force=args.force)
            print(json.dumps({"model_dir": str(path), "seconds": round(time.perf_counter() - started, 1)}))
        elif args.command == "certs":
            _certs(args)
        elif args.command == "keys":
            return _keys(args, config)
        elif args.command == "fleet":
            return run_fleet(args, config)
        elif args.command == "experts":
            from cloud.backends.vllm_backend import resolve_model

            run_experts(args, config.data_dir, Path(resolve_model(config.cloud, config.data_dir)))
    except TandemError as exc:
        print(f"tandem-cloud: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config) -> None:
    from cloud.server import serve

    await serve(config)


if __name__ == "__main__":
    sys.exit(main())
