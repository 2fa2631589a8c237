"""Memory experts vs merging vs the base model, on the same questions.

`python -m benchmarks.experts [--countries 80 --max-epochs 10 --merge-method ties]`:
1. three fact tables from countryinfo (capital, ISO currency code, demonym), one expert each, trained with the
   product's `train_expert` (reused when a trained expert has the same table), and one merged adapter
   (`merge_experts`);
2. one vLLM cloud serving all four; questions in a training phrasing, in held-out paraphrases, and unrelated
   questions (arithmetic, continents) for regression;
3. arms, cloud only: base model, the right expert (oracle), the expert the edge's router picks (`ExpertChooser`,
   the code the edge serves with), the merged adapter; then the whole cascade (edge + cloud) with routed
   experts, with the merged adapter and with none;
4. LoRA vs base throughput at 1 and 16 streams (separate load-generator process).
Writes benchmarks/results/experts.json and experts.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import RESULTS_DIR, cloud_for_benchmark, edge_agent_for_benchmark, quiet_logs
from benchmarks.loadgen import Target, run_load
from cloud.backends.vllm_backend import resolve_model
from cloud.experts.facts import HELD_OUT_PHRASINGS, TRAIN_PHRASINGS, Fact, table_hash
from cloud.experts.merging import merge_experts
from cloud.experts.store import expert_dir, read_manifest
from cloud.experts.training import TrainSettings, train_expert
from edge.agent import EdgeAgent
from edge.calibration.labeled import LabeledItem, arithmetic, builtin, is_correct, regions
from edge.core.query import Policy, Query
from edge.uplink.client import CloudClient
from shared.config import load_config
from shared.prompts import QA_STOP, qa_prompt
from shared.types import GenerationRequest, SamplingParams

# expert name -> (relation as phrased in questions, built-in labeled set its facts come from)
TABLES = {"bench-capitals": ("capital", "capitals"), "bench-currencies": ("ISO currency code", "currencies"),
          "bench-demonyms": ("demonym", "demonyms")}  # fmt: skip
CLOUD = Policy(route="cloud")


def build_tables(folder: Path, countries: int, seed: int) -> dict[str, tuple[Path, list[LabeledItem]]]:
    """Per table: its CSV and, per fact, the accepted answers (all aliases) for grading."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {}
    for name, (relation, builtin_set) in TABLES.items():
        items = sorted(builtin([builtin_set]), key=lambda i: i.id)
        random.Random(seed).shuffle(items)
        items = [i for i in items if "," not in i.answers[0] and "|" not in i.answers[0]][:countries]
        subjects = [i.id.split(":", 1)[1] for i in items]
        path = folder / f"{name}.csv"
        rows = "".join(f'"{s}",{relation},"{i.answers[0]}"\n' for s, i in zip(subjects, items, strict=True))
        path.write_text("subject,relation,answer\n" + rows)
        graded = [
            LabeledItem(f"{name}:{s}", s, i.answers, topic=relation) for s, i in zip(subjects, items, strict=True)
        ]
        tables[name] = (path, graded)
    return tables


def ensure_experts(tables: dict, data_dir: Path, model_dir: Path, settings: TrainSettings, method: str) -> str:
    for name, (path, _) in tables.items():
        folder = expert_dir(data_dir, name)
        trained = (folder / "tandem-expert.json").is_file()
        if trained and read_manifest(folder).table_sha256 == table_hash(path):
            print(f"{name}: reusing the trained expert")
            continue
        train_expert(path, name, data_dir, model_dir, settings)
    merged = f"bench-merged-{method}"
    merge_experts(list(tables), method, merged, data_dir, model_dir)
    return merged


def questions(tables: dict, phrasings: tuple[str, ...]) -> list[tuple[str, LabeledItem]]:
    """(table, item with the question phrased) for every fact and phrasing."""
    out = []
    for name, (_, graded) in tables.items():
        for item in graded:
            fact = Fact(item.answers, subject=item.question, relation=item.topic)
            out += [(name, LabeledItem(item.id, q, item.answers, topic=name)) for q in fact.questions(phrasings)]
    return out


async def ask_cloud(client: CloudClient, items: list[LabeledItem], experts: list[str]) -> list[bool]:
    gate = asyncio.Semaphore(16)

    async def one(item: LabeledItem, expert: str) -> bool:
        request = GenerationRequest(
            f"ex-{item.id}", SamplingParams(max_tokens=16, stop=QA_STOP), prompt=qa_prompt(item.question), expert=expert
        )
        async with gate:
            return is_correct((await client.generate(request)).text, item)

    return list(await asyncio.gather(*(one(i, e) for i, e in zip(items, experts, strict=True))))


async def cloud_arms(address: str, agent: EdgeAgent, sets: dict, merged: str) -> tuple[dict, dict]:
    accuracy: dict = {}
    routing: dict = {}
    async with CloudClient(address, timeout_s=300) as client:
        for set_name, pairs in sets.items():
            tables = [t for t, _ in pairs]
            items = [i for _, i in pairs]
            choices = [await agent.namespace().labeled.expert_for(i.question) for i in items]
            routed = [c.name if c else "" for c in choices]
            oracle = [t if t in TABLES else "" for t in tables]
            arms = {
                "base": [""] * len(items),
                "oracle_expert": oracle,
                "routed": routed,
                "merged": [merged] * len(items),
            }
            accuracy[set_name] = {}
            for arm, experts in arms.items():
                correct = await ask_cloud(client, items, experts)
                accuracy[set_name][arm] = sum(correct) / len(correct)
                print(f"  {set_name:10s} {arm:14s} {accuracy[set_name][arm]:.3f}", flush=True)
            routing[set_name] = sum(r == o for r, o in zip(routed, oracle, strict=True)) / len(items)
    return accuracy, routing


async def cascade_arms(address: str, sets: dict, merged: str) -> dict:
    result: dict[str, Any] = {}
    for arm, mode in (("cascade_routed", "route"), ("cascade_merged", merged), ("cascade_base", "off")):
        async with edge_agent_for_benchmark(address, experts_mode=mode) as agent:
            await agent.experts_ready()
            for set_name, pairs in sets.items():
                answers = [await agent.namespace().answer(Query(question=i.question)) for _, i in pairs]
                correct = [is_correct(a.answer, i) for a, (_, i) in zip(answers, pairs, strict=True)]
                result.setdefault(set_name, {})[arm] = sum(correct) / len(correct)
                cloud = sum(a.served_by == "cloud" for a in answers) / len(answers)
                print(f"  {set_name:10s} {arm:14s} {result[set_name][arm]:.3f} (cloud share {cloud:.2f})", flush=True)
    return result


def throughput(address: str, expert: str, streams: list[int], tokens: int) -> dict:
    rows = {}
    for arm, name in (("base", ""), ("lora", expert)):
        target = Target("tandem", address, "Write a story about a lighthouse keeper.", expert=name)
        run_load(target, 1, 4, 1, 1)
        rows[arm] = {c: run_load(target, c, tokens, 2, 1)["tok_s"] for c in streams}
    ratios = {c: rows["lora"][c] / rows["base"][c] for c in streams}
    for c in streams:
        print(
            f"  x{c}: LoRA {rows['lora'][c]:.1f} tok/s vs base {rows['base'][c]:.1f}: {ratios[c]:.3f} (target >= 0.5)"
        )
    return {"tok_s": rows, "lora_vs_base": ratios}


def plot(report: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(report["accuracy"])
    arms = list(next(iter(report["accuracy"].values())))
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(arms)
    for k, arm in enumerate(arms):
        ax.bar([i + k * width for i in range(len(sets))], [report["accuracy"][s][arm] for s in sets], width, label=arm)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sets))], sets)
    base = next(iter(report["experts"].values()))["base_model"]
    ax.set(ylabel="accuracy", ylim=(0, 1), title=f"memory experts: routed vs merged vs base ({base}, vLLM)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


async def evaluate(address: str, sets: dict, cascade_sets: dict, merged: str, streams: list[int]) -> dict:
    async with edge_agent_for_benchmark(address) as agent:
        if not await agent.experts_ready():
            raise RuntimeError("the edge could not list the cloud's experts")
        accuracy, routing = await cloud_arms(address, agent, sets, merged)
    cascade = await cascade_arms(address, cascade_sets, merged)
    for name, arms in cascade.items():
        accuracy[name] |= arms
    loop = asyncio.get_running_loop()
    speed = await loop.run_in_executor(None, throughput, address, next(iter(TABLES)), streams, 32)
    return {"accuracy": accuracy, "routing_accuracy": routing, "throughput": speed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--countries", type=int, default=60, help="facts per table")
    parser.add_argument("--phrasings", type=int, default=2, help="training phrasings per fact")
    parser.add_argument("--max-epochs", type=int, default=12)
    parser.add_argument("--merge-method", default="ties", choices=["linear", "ties", "dare_ties", "svd"])
    parser.add_argument("--unrelated", type=int, default=60, help="unrelated questions (regression)")
    parser.add_argument("--cascade-per-table", type=int, default=30, help="held-out questions per table, cascade arms")
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "experts.json")
    args = parser.parse_args()
    quiet_logs()
    config = load_config()
    model_dir = Path(resolve_model(config.cloud, config.data_dir))
    tables = build_tables(RESULTS_DIR / "cache" / "experts", args.countries, args.seed)
    settings = TrainSettings(max_epochs=args.max_epochs, phrasings=args.phrasings, seed=args.seed)
    started = time.perf_counter()
    merged = ensure_experts(tables, config.data_dir, model_dir, settings, args.merge_method)
    trained_s = time.perf_counter() - started
    rng = random.Random(args.seed)
    unrelated = rng.sample(arithmetic() + regions(), args.unrelated)
    held_out = questions(tables, HELD_OUT_PHRASINGS[:1])
    sets = {
        "training_phrasing": questions(tables, TRAIN_PHRASINGS[:1]),
        "held_out": held_out,
        "unrelated": [("", i) for i in unrelated],
    }
    per_table = {t: [p for p in held_out if p[0] == t][: args.cascade_per_table] for t in TABLES}
    cascade_sets = {"held_out": [p for rows in per_table.values() for p in rows], "unrelated": sets["unrelated"]}
    flags = ["--experts", ",".join([*TABLES, merged]), "--max-concurrent-requests", "16"]
    with cloud_for_benchmark("vllm", flags) as cloud:
        report = asyncio.run(evaluate(cloud.address, sets, cascade_sets, merged, args.streams))
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "experts": {
            n: {k: v for k, v in vars(read_manifest(expert_dir(config.data_dir, n))).items() if k != "index_questions"}
            for n in [*TABLES, merged]
        },
        "training_and_merge_seconds": round(trained_s, 1),
        "questions": {k: len(v) for k, v in sets.items()},
        **report,
        "targets": {"routed_held_out": 0.95, "unrelated_within_points": 2, "lora_vs_base_16_streams": 0.5},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    plot(report, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
