"""Cross-namespace leaks through the daemon's caches: several apps, many questions, each with a paraphrase.

App 0 asks every question (cached in its namespace), then the others ask paraphrases and originals before
ever asking them themselves. A leak is a cache hit for a fact the asking app never asked: the target is 0.
Own hits (app 0's paraphrases, the others' second wording) show the caches do work.

`python -m benchmarks.isolation [--apps 3] [--n 50]` writes benchmarks/results/isolation.json.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks.harness import RESULTS_DIR, cloud_for_benchmark, quiet_logs
from edge.calibration.labeled import capitals
from shared.launchers import DaemonProcess

PREFIX = "What is the capital of "


def facts(n: int, seed: int) -> list[tuple[str, str]]:
    """(question, paraphrase) pairs from the built-in capitals."""
    items = [i for i in capitals() if i.question.startswith(PREFIX)]
    random.Random(seed).shuffle(items)
    return [(i.question, f"Which city is {i.question[len(PREFIX) : -1]}'s capital?") for i in items[:n]]


class Apps:
    def __init__(self, base_url: str, tokens: list[str]) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.asked: list[set[int]] = [set() for _ in tokens]
        self.leaks: list[dict] = []
        self.own_hits = 0
        self.own_asks = 0

    def ask(self, app: int, fact: int, text: str, route: str) -> None:
        body = {"model": "tandem", "messages": [{"role": "user", "content": text}], "tandem": {"route": route}}
        headers = {"authorization": f"Bearer {self.tokens[app]}"}
        reply = httpx.post(f"{self.base_url}/v1/chat/completions", json=body, headers=headers, timeout=120)
        reply.raise_for_status()
        hit = reply.json()["tandem"]["served_by"] == "cache"
        if fact in self.asked[app]:
            self.own_asks += 1
            self.own_hits += hit
        elif hit:
            self.leaks.append({"app": app, "fact": fact, "text": text})
        self.asked[app].add(fact)

    def phase(self, app: int, texts: list[tuple[int, str]], route: str = "auto", workers: int = 4) -> None:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda ft: self.ask(app, ft[0], ft[1], route), texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apps", type=int, default=3)
    parser.add_argument("--n", type=int, default=50, help="questions (each also paraphrased)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="vllm", choices=["vllm", "llamacpp"])
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "isolation.json")
    args = parser.parse_args()
    if args.apps < 2:
        parser.error("--apps must be at least 2")
    quiet_logs()
    pairs = facts(args.n, args.seed)
    tokens = [f"app{i}-{secrets.token_hex(12)}" for i in range(args.apps)]
    keys = ",".join(f"{t}=app{i}" for i, t in enumerate(tokens))
    originals = [(i, q) for i, (q, _) in enumerate(pairs)]
    paraphrases = [(i, p) for i, (_, p) in enumerate(pairs)]
    with cloud_for_benchmark(args.backend) as cloud, tempfile.TemporaryDirectory() as data_dir:
        flags = ["--cloud-address", cloud.address, "--api-keys", keys, "--log-level", "WARNING"]
        with DaemonProcess(flags, data_dir=data_dir) as daemon:
            apps = Apps(daemon.base_url, tokens)
            print(f"app 0 asks {len(pairs)} questions ...", flush=True)
            apps.phase(0, originals, route="cloud")
            for app in range(1, args.apps):
                first, second = (paraphrases, originals) if app % 2 else (originals, paraphrases)
                print(f"app {app} asks them in both wordings ...", flush=True)
                apps.phase(app, first)
                apps.phase(app, second)
            apps.phase(0, paraphrases)
    asked = args.n * (1 + 2 * (args.apps - 1) + 1)
    report = {
        "apps": args.apps,
        "questions": args.n,
        "requests": asked,
        "cross_namespace_answers": len(apps.leaks),
        "leaks": apps.leaks,
        "own_hit_rate": round(apps.own_hits / max(1, apps.own_asks), 3),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"{args.apps} apps x {args.n} questions (+ paraphrases), {asked} requests")
    print(f"cross-namespace answers: {len(apps.leaks)} (target 0); own-cache hit rate {report['own_hit_rate']:.0%}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
