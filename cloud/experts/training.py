"""Trains a memory expert: a LoRA adapter on the served model that recalls one fact table.

The loss is on the answer tokens only, with the same few-shot prompt the edge sends, so the adapter learns the
facts in the shape they are asked. Recall is measured teacher-forced (every answer token is the argmax given
the ones before it — exactly what greedy decoding would produce), which costs one forward pass per batch
instead of a generation per question. An epoch that lowers recall is undone and the learning rate halved (a
rate that suits a 270M model overshoots on a 1.5B one), so the adapter written is the best one seen. Each
epoch leaves a checkpoint (the best adapter, optimizer, progress), so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from cloud.experts.facts import TRAIN_PHRASINGS, Fact, load_facts, table_hash
from cloud.experts.store import ExpertManifest, expert_dir, model_hash
from shared.errors import InvalidRequest
from shared.prompts import qa_prompt

log = logging.getLogger(__name__)

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class TrainSettings:
    rank: int = 16
    learning_rate: float = 1e-3  # 3e-3 diverged on 250 capitals
    batch_size: int = 16
    max_epochs: int = 12
    phrasings: int = len(TRAIN_PHRASINGS)  # training phrasings per fact (fewer: faster epochs)
    target_recall: float = 0.98
    seed: int = 0
    threads: int = 0  # 0: torch's default


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    answer_start: int  # index of the first answer token


def build_examples(tokenizer, facts: list[Fact], phrasings: tuple[str, ...] = TRAIN_PHRASINGS) -> list[Example]:
    """One example per fact and phrasing. The boundary is found by tokenizing the prompt alone, which ends
    at "A:" with no trailing space: the answer's leading space belongs to its first token."""
    examples = []
    for fact in facts:
        for question in fact.questions(phrasings):
            prompt = qa_prompt(question)
            prompt_ids = tokenizer(prompt).input_ids
            full_ids = tokenizer(f"{prompt} {fact.answers[0]}\n").input_ids
            if full_ids[: len(prompt_ids)] != prompt_ids:
                raise InvalidRequest(f"the answer {fact.answers[0]!r} merges with the prompt's last token")
            examples.append(Example(full_ids, len(prompt_ids)))
    return examples


def _batch(examples: list[Example], pad_id: int):
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids)
        mask[row, :n] = 1
        labels[row, e.answer_start : n] = ids[row, e.answer_start : n]
    return ids, mask, labels


def recall(model, examples: list[Example], pad_id: int, batch_size: int) -> float:
    """Share of examples whose every answer token is the model's argmax (teacher-forced greedy)."""
    import torch

    hits = 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            ids, mask, labels = _batch(examples[start : start + batch_size], pad_id)
            predicted = model(input_ids=ids, attention_mask=mask).logits[:, :-1].argmax(-1)
            target = labels[:, 1:]
            answer = target != -100
            hits += int(((predicted == target) | ~answer).all(dim=1).sum())
    model.train()
    return hits / len(examples)


def train_expert(
    facts_path: Path, name: str, data_dir: Path, model_dir: Path, settings: TrainSettings = TrainSettings()
) -> ExpertManifest:
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
    from transformers import AutoModelForCausalLM, AutoTokenizer

    facts = load_facts(facts_path)
    out = expert_dir(data_dir, name)
    checkpoint = out / "checkpoint"
    identity = {"table_sha256": table_hash(facts_path), "base_model_sha256": model_hash(model_dir)}
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if not 1 <= settings.phrasings <= len(TRAIN_PHRASINGS):
        raise InvalidRequest(f"phrasings must be 1..{len(TRAIN_PHRASINGS)}")
    examples = build_examples(tokenizer, facts, TRAIN_PHRASINGS[: settings.phrasings])
    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)

    state = _resumable_state(checkpoint, identity, settings)
    if state is not None:
        model = PeftModel.from_pretrained(base, str(checkpoint), is_trainable=True)
        print(f"{name}: resuming from epoch {state['epoch']} (recall {state['recall']:.3f})", flush=True)
    else:
        lora = LoraConfig(
            r=settings.rank, lora_alpha=2 * settings.rank, target_modules=list(TARGET_MODULES), lora_dropout=0.0
        )
        model = get_peft_model(base, lora)
    learning_rate = state.get("learning_rate", settings.learning_rate) if state else settings.learning_rate
    optimizer = _optimizer(model, learning_rate)
    if state is not None:
        optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", weights_only=True))
    epoch = state["epoch"] if state else 0
    seconds = state["seconds"] if state else 0.0
    measured = state["recall"] if state else 0.0
    order = random.Random(settings.seed)
    for _ in range(epoch):
        order.shuffle(examples)  # the same example order an uninterrupted run would have used

    best = _copy(get_peft_model_state_dict(model))
    model.train()
    while measured < settings.target_recall and epoch < settings.max_epochs:
        started = time.perf_counter()
        order.shuffle(examples)
        batches = range(0, len(examples), settings.batch_size)
        for start in tqdm(batches, desc=f"{name} epoch {epoch + 1}/{settings.max_epochs}", unit="batch"):
            ids, mask, labels = _batch(examples[start : start + settings.batch_size], pad_id)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        epoch += 1
        reached = recall(model, examples, pad_id, settings.batch_size * 2)
        seconds += time.perf_counter() - started
        print(f"{name}: epoch {epoch} loss {loss.item():.3f} recall {reached:.3f}", flush=True)
        keep, learning_rate = after_epoch(measured, reached, learning_rate)
        if keep:
            measured, best = reached, _copy(get_peft_model_state_dict(model))
        else:
            set_peft_model_state_dict(model, best)
            optimizer = _optimizer(model, learning_rate)
            print(f"{name}: recall fell, back to {measured:.3f} with learning rate {learning_rate:.1e}", flush=True)
        progress = {"epoch": epoch, "recall": measured, "seconds": seconds, "learning_rate": learning_rate}
        _save_checkpoint(model, optimizer, checkpoint, identity, settings, progress)

    model.save_pretrained(str(out))
    manifest = ExpertManifest(
        name=name,
        domain=", ".join(sorted({f.domain for f in facts})),
        base_model=model_dir.name,
        facts=len(facts),
        index_questions=[f.questions(TRAIN_PHRASINGS)[0] for f in facts],
        recall=measured,
        epochs=epoch,
        training_seconds=round(seconds, 1),
        rank=settings.rank,
        table_sha256=identity["table_sha256"],
        base_model_sha256=identity["base_model_sha256"],
    )
    manifest.write(out)
    shutil.rmtree(checkpoint, ignore_errors=True)
    return manifest


def _resumable_state(checkpoint: Path, identity: dict, settings: TrainSettings) -> dict | None:
    """The last epoch's state when it belongs to this table, base model and settings; otherwise start over."""
    path = checkpoint / "progress.json"
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    if state.get("identity") != identity or state.get("settings") != asdict(settings):
        log.warning("ignoring a checkpoint of another table, model or settings", extra={"path": str(checkpoint)})
        return None
    return state


def after_epoch(best_recall: float, reached: float, learning_rate: float) -> tuple[bool, float]:
    """Keep an epoch that did not lower recall; undo one that did, and halve the rate it overshot with."""
    if reached < best_recall:
        return False, learning_rate / 2
    return True, learning_rate


def _optimizer(model, learning_rate: float):
    import torch

    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)


def _copy(state: dict) -> dict:
    return {k: v.detach().clone() for k, v in state.items()}


def _save_checkpoint(model, optimizer, checkpoint: Path, identity: dict, settings, progress: dict) -> None:
    import torch

    from shared.files import write_atomic

    checkpoint.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(checkpoint))
    torch.save(optimizer.state_dict(), checkpoint / "optimizer.pt")
    state = {"identity": identity, "settings": asdict(settings), **progress}
    write_atomic(checkpoint / "progress.json", json.dumps(state).encode())
