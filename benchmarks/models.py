"""Every known model on the edge's own path (llama.cpp, the served rendering, the served estimator), each prompt style.

`python -m benchmarks.models [--models a,b] [--per-set 15]` answers the same stratified sample of every built-in
labeled set with each model and each prompt style (few-shot Q/A, the model's chat template) through
`LlamaGenerator` and `Query.rendered` exactly as the daemon does, and prints accuracy, the AUROC of the default
confidence estimator for "the answer is right", decoding tokens/s and resident memory. The registry's recorded
prompt style (`shared/model_registry.py`) and the default edge model are chosen from this table; writes
benchmarks/results/models.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from pathlib import Path

import numpy as np
import psutil
from tqdm import tqdm

from benchmarks.harness import RESULTS_DIR, quiet_logs
from edge.calibration.curves import roc_auc
from edge.calibration.labeled import BUILTIN_SETS, LabeledItem, builtin, is_correct
from edge.confidence.estimators import create_estimator
from edge.core.query import Query, QueryStyle
from edge.local.generator import LlamaGenerator
from shared.config import default_data_dir
from shared.llama_runtime import LlamaCppRunner
from shared.model_files import model_gguf
from shared.model_registry import MODELS
from shared.prompts import PromptStyle

STYLES: tuple[PromptStyle, ...] = ("few_shot_qa", "chat")


def sample(sets: list[str], per_set: int, seed: int) -> list[LabeledItem]:
    """The same `per_set` questions of each set for every model."""
    rng = random.Random(seed)
    out: list[LabeledItem] = []
    for name in sets:
        items = builtin([name])
        out += rng.sample(items, min(per_set, len(items)))
    return out


async def score(generator: LlamaGenerator, items: list[LabeledItem], style: PromptStyle, desc: str) -> dict:
    estimator = create_estimator("mean_logprob")
    right, conf, tokens, seconds = [], [], 0, 0.0
    for item in tqdm(items, desc=desc, leave=False):
        draft = await generator.generate(Query(question=item.question, style=QueryStyle(style, 32)))
        right.append(is_correct(draft.text.strip(), item))
        conf.append(estimator.score(draft.steps))
        tokens, seconds = tokens + len(draft.steps), seconds + draft.seconds
    labels = np.array(right, dtype=bool)
    return {
        "accuracy": float(labels.mean()),
        "auroc": roc_auc(np.array(conf), labels) if 0 < labels.sum() < len(labels) else None,
        "tokens_per_s": tokens / seconds if seconds else 0.0,
        "by_set": {kind: float(np.mean(marks)) for kind, marks in _by_kind(right, items).items()},
    }


def _by_kind(right: list[bool], items: list[LabeledItem]) -> dict[str, list[bool]]:
    groups: dict[str, list[bool]] = {}
    for mark, item in zip(right, items, strict=True):
        groups.setdefault(item.id.split(":")[0], []).append(mark)
    return groups


async def measure(
    name: str, items: list[LabeledItem], styles: tuple[PromptStyle, ...], threads: int, data_dir: Path
) -> dict:
    process = psutil.Process()
    before = process.memory_info().rss
    runner = LlamaCppRunner(model_gguf(data_dir, name), n_ctx=1024, n_threads=threads)
    row: dict = {"model": name, "recorded_style": MODELS[name].prompt_style}
    try:
        generator = LlamaGenerator(runner, max_queue=4)
        for style in styles:
            row[style] = await score(generator, items, style, f"{name} {style}")
        row["rss_mib"] = round((process.memory_info().rss - before) / 2**20)  # weights are mapped in by use
    finally:
        runner.close()
    row["best_style"] = max(styles, key=lambda s: row[s]["accuracy"])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of: {', '.join(MODELS)}")
    parser.add_argument("--per-set", type=int, default=15, help="questions from each set")
    parser.add_argument("--sets", default=",".join(BUILTIN_SETS), help="comma-separated built-in sets (default: all)")
    parser.add_argument("--styles", default=",".join(STYLES), help="comma-separated prompt styles")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "models.json")
    args = parser.parse_args()
    quiet_logs()
    names = args.models.split(",")
    if unknown := set(names) - set(MODELS):
        parser.error(f"unknown models {sorted(unknown)}; known: {', '.join(MODELS)}")
    items = sample(args.sets.split(","), args.per_set, args.seed)
    styles = tuple(style for style in STYLES if style in args.styles.split(","))
    if not styles:
        parser.error(f"--styles: choose from {', '.join(STYLES)}")
    rows = [asyncio.run(measure(name, items, styles, args.threads, default_data_dir())) for name in names]
    print(f"{len(items)} questions (at most {args.per_set} per set), llama.cpp, {args.threads} threads, greedy")
    print(f"{'model':<22}{'style':<13}{'accuracy':>9}{'AUROC':>7}{'tok/s':>7}{'MiB':>6}")
    for row in rows:
        for style in styles:
            r = row[style]
            auroc = f"{r['auroc']:.3f}" if r["auroc"] is not None else "  -  "
            mark = " *" if style == row["recorded_style"] else ""
            print(
                f"{row['model']:<22}{style:<13}{r['accuracy']:>9.3f}{auroc:>7}{r['tokens_per_s']:>7.1f}"
                f"{row['rss_mib']:>6}{mark}"
            )
    print("* the style recorded in shared/model_registry.py")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"questions": len(items), "per_set": args.per_set, "sets": args.sets, "models": rows}
    args.out.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
