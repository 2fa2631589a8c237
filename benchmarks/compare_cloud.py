"""Tandem's cloud service against vLLM's own servers on the same model and machine.

Tandem's gRPC service (in-process vLLM engine) runs throughout; each peer — vLLM's OpenAI-compatible server,
vLLM's gRPC server, Tandem on Ray Serve with 1 and with 2 replicas — is started next to it in turn and the two
are loaded in alternating rounds (an idle vLLM engine costs no CPU), so every ratio is measured in the same
minutes: on a shared VM the speed of the machine drifts by up to 2x between runs (measured). The load comes
from a separate client process (benchmarks.loadgen): one per round, since more only added contention here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import cloud_for_benchmark
from benchmarks.loadgen import Target, run_interleaved, run_load
from benchmarks.peers import vllm_grpc_server, vllm_openai_server
from cloud.model_prep import model_dir as prepared_dir
from shared.config import load_config

STORY = "Write a story about a dragon who learns to fly."
PEERS = ("vllm-openai", "vllm-grpc", "tandem-ray-1", "tandem-ray-2")  # each measured against "tandem"
# The engine must not be the cap being measured: admit well above the highest concurrency.
TANDEM_FLAGS = ["--max-concurrent-requests", "64"]


@dataclass(frozen=True)
class Running:
    """A Tandem service already running (vLLM backend) to measure instead of starting one."""

    address: str = ""
    api_key: str = ""


@contextlib.contextmanager
def _tandem(ray_replicas: int = 0) -> Iterator[str]:
    """Tandem with its in-process vLLM engine, or with `ray_replicas` vLLM replicas on Ray Serve."""
    ray = ["--replica-backend", "vllm", "--replicas", str(ray_replicas)] if ray_replicas else []
    with cloud_for_benchmark("ray" if ray_replicas else "vllm", [*ray, *TANDEM_FLAGS]) as cloud:
        yield cloud.address


def _prompt_ids(model_dir: Path) -> tuple[int, ...]:
    from transformers import AutoTokenizer

    return tuple(AutoTokenizer.from_pretrained(str(model_dir))(STORY).input_ids)


def _targets(
    model_dir: Path, running: Running
) -> dict[str, tuple[Callable[[], contextlib.AbstractContextManager[str]], Callable]]:
    """Per peer: how to start it (or the running Tandem service given), and how to aim the load at it."""
    tandem = (lambda: contextlib.nullcontext(running.address)) if running.address else _tandem
    return {
        "vllm-openai": (
            lambda: vllm_openai_server(model_dir),
            lambda a: Target("vllm-openai", a, STORY, model=str(model_dir)),
        ),
        "vllm-grpc": (
            lambda: vllm_grpc_server(model_dir),
            lambda a: Target("vllm-grpc", a, STORY, prompt_ids=_prompt_ids(model_dir)),
        ),
        "tandem": (tandem, lambda a: Target("tandem", a, STORY, api_key=running.api_key)),
        "tandem-ray-1": (lambda: _tandem(1), lambda a: Target("tandem", a, STORY)),
        "tandem-ray-2": (lambda: _tandem(2), lambda a: Target("tandem", a, STORY)),
    }


def compare_cloud(peers: list[str], levels: list[int], tokens: int, rounds: int, running: Running) -> dict:
    """Tandem (in-process engine) runs throughout; every other peer is started in turn and measured in rounds
    alternating with Tandem, so each ratio comes from the same minutes of the same machine."""
    config = load_config()  # the model Tandem serves: the peers serve the same folder
    model_dir = prepared_dir(config.data_dir, config.cloud.engine.known_model)
    targets = _targets(model_dir, running)
    start_tandem, aim_tandem = targets["tandem"]
    measured: dict[str, dict[int, dict]] = {}
    with start_tandem() as tandem_address:
        baseline = aim_tandem(tandem_address)
        run_load(baseline, 1, 4, 1)  # warm-up: connections, lazy engine setup
        for peer in [p for p in peers if p != "tandem"]:
            start, aim = targets[peer]
            with start() as address:
                target = aim(address)
                run_load(target, 1, 4, 1)
                for c in levels:
                    pair = run_interleaved({"tandem": baseline, peer: target}, c, tokens, rounds)
                    measured.setdefault(peer, {})[c] = pair[peer]
                    measured.setdefault(f"tandem_during_{peer}", {})[c] = pair["tandem"]
                    ours, theirs = pair["tandem"], pair[peer]
                    ratio = ours["tok_s"] / theirs["tok_s"]
                    print(
                        f"  x{c}: tandem {ours['tok_s']:.1f} tok/s (TTFT {ours['p50_ttft_ms']:.0f} ms) vs {peer} "
                        f"{theirs['tok_s']:.1f} (TTFT {theirs['p50_ttft_ms']:.0f} ms): {ratio:.3f}",
                        flush=True,
                    )
    return {
        "tokens_per_request": tokens,
        "rounds": rounds,
        "peers": measured,
        "rows": [_row(measured, c) for c in levels],
        "targets": {"tandem_vs_vllm": 1.0, "tandem_added_ttft_ms": 5.0, "ray1_vs_in_process": 0.95},
    }


def _row(measured: dict, c: int) -> dict:
    def vs(peer: str, key: str = "tok_s") -> float | None:
        if peer not in measured:
            return None
        return measured[f"tandem_during_{peer}"][c][key] / measured[peer][c][key]

    row: dict = {"concurrency": c}
    for peer in ("vllm-openai", "vllm-grpc"):
        if (ratio := vs(peer)) is not None:
            row[f"tandem_vs_{peer}"] = ratio
            row[f"tandem_added_ttft_ms_vs_{peer}"] = (
                measured[f"tandem_during_{peer}"][c]["p50_ttft_ms"] - measured[peer][c]["p50_ttft_ms"]
            )
    ray1, ray2 = vs("tandem-ray-1"), vs("tandem-ray-2")
    if ray1 is not None:
        row["ray1_vs_in_process"] = 1 / ray1
    if ray1 is not None and ray2 is not None:
        row["ray2_vs_ray1"] = ray1 / ray2  # each normalized by the in-process engine measured beside it
    return row


def print_rows(report: dict) -> None:
    for r in report["rows"]:
        print(f"cloud x{r['concurrency']}: " + ", ".join(f"{k} {v:.3f}" for k, v in r.items() if k != "concurrency"))
