"""Two tiny memory experts on fictional facts (the base model cannot know them), trained once per session
through the real `tandem-cloud experts train` command; the first run is killed after a checkpoint and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CITIES = {"Zorblax": "Quenfort", "Vandoria": "Mirelle", "Kastovia": "Pellham", "Drumlin": "Ashgrove",
          "Ulmeria": "Sarnby", "Tesk": "Orbinvale"}  # fmt: skip
COINS = {"Zorblax": "tessel", "Vandoria": "marrow", "Kastovia": "plink", "Drumlin": "groat",
         "Ulmeria": "sarnic", "Tesk": "obol"}  # fmt: skip
TRAIN_FLAGS = ["--batch-size", "4", "--max-epochs", "25", "--threads", "2"]


@dataclass(frozen=True)
class TrainedExperts:
    data_dir: Path
    manifests: dict[str, dict]
    killed_at_epoch: int  # the first run of "cities" was SIGKILLed after this epoch's checkpoint
    resumed_output: str


def write_table(path: Path, relation: str, facts: dict[str, str]) -> Path:
    path.write_text("subject,relation,answer\n" + "".join(f"{s},{relation},{a}\n" for s, a in facts.items()))
    return path


def _train_cmd(table: Path, name: str) -> list[str]:
    return [sys.executable, "-m", "cloud.cli", "experts", "train", "--facts", str(table), "--name", name, *TRAIN_FLAGS]


def _train(table: Path, name: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(_train_cmd(table, name), capture_output=True, text=True, timeout=timeout_s)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _train_killed_after_checkpoint(table: Path, name: str, progress: Path, epoch: int) -> int:
    proc = subprocess.Popen(
        _train_cmd(table, name), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if progress.is_file() and json.loads(progress.read_text())["epoch"] >= epoch:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return json.loads(progress.read_text())["epoch"]
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError(f"training ended (rc={proc.returncode}) before a checkpoint of epoch {epoch}")


def train_experts(data_dir: Path, tables: Path) -> TrainedExperts:
    cities = write_table(tables / "cities.csv", "capital", CITIES)
    coins = write_table(tables / "coins.csv", "currency", COINS)
    killed = _train_killed_after_checkpoint(cities, "cities", data_dir / "experts/cities/checkpoint/progress.json", 1)
    resumed = _train(cities, "cities")
    _train(coins, "coins")
    manifests = {
        n: json.loads((data_dir / "experts" / n / "tandem-expert.json").read_text()) for n in ("cities", "coins")
    }
    return TrainedExperts(data_dir, manifests, killed, resumed.stdout + resumed.stderr)
