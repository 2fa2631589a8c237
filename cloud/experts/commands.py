"""`tandem-cloud experts train|merge|list`: memory experts from fact tables."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from cloud.experts.training import TrainSettings

DEFAULTS = TrainSettings()


def add_experts_parser(sub) -> None:
    experts = sub.add_parser("experts", help="memory experts: LoRA adapters that recall an operator's fact tables")
    experts_sub = experts.add_subparsers(dest="experts_command", required=True)
    train = experts_sub.add_parser("train", help="train an expert on a fact table (resumes an interrupted run)")
    train.add_argument(
        "--facts", type=Path, required=True, help="CSV or JSONL: subject,relation,answer or question,answers"
    )
    train.add_argument("--name", required=True, help="the expert's name (requests name it in `expert`)")
    train.add_argument("--rank", type=int, default=DEFAULTS.rank)
    train.add_argument("--learning-rate", type=float, default=DEFAULTS.learning_rate)
    train.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    train.add_argument("--max-epochs", type=int, default=DEFAULTS.max_epochs, help="the step budget, in epochs")
    train.add_argument("--target-recall", type=float, default=DEFAULTS.target_recall)
    train.add_argument("--phrasings", type=int, default=DEFAULTS.phrasings, help="training phrasings per fact")
    train.add_argument("--threads", type=int, default=DEFAULTS.threads, help="torch threads; 0: its default")
    merge = experts_sub.add_parser("merge", help="merge trained experts into one adapter (peft)")
    merge.add_argument("experts", nargs="+", help="two or more trained experts")
    merge.add_argument("--method", default="ties", choices=["linear", "ties", "dare_ties", "svd"])
    merge.add_argument("--name", required=True)
    merge.add_argument("--density", type=float, default=0.5, help="ties/dare_ties: share of weights kept")
    experts_sub.add_parser("list", help="trained experts and their manifests")


def run_experts(args: argparse.Namespace, data_dir: Path, model_dir: Path) -> None:
    from cloud.experts.store import list_experts

    if args.experts_command == "train":
        from cloud.experts.training import train_expert

        settings = TrainSettings(
            rank=args.rank,
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            max_epochs=args.max_epochs,
            target_recall=args.target_recall,
            phrasings=args.phrasings,
            threads=args.threads,
        )
        manifest = train_expert(args.facts, args.name, data_dir, model_dir, settings)
    elif args.experts_command == "merge":
        from cloud.experts.merging import merge_experts

        manifest = merge_experts(args.experts, args.method, args.name, data_dir, model_dir, args.density)
    else:
        for m in list_experts(data_dir):
            print(json.dumps({k: v for k, v in asdict(m).items() if k != "index_questions"}))
        return
    print(json.dumps({k: v for k, v in asdict(manifest).items() if k != "index_questions"}))
