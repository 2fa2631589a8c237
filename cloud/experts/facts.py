"""An operator's fact table (CSV or JSONL) and the questions built from it.

A row is either `subject, relation, answer` ("Peru", "capital", "Lima") or `question, answers`; several
accepted answers are separated by `|`. Training uses several phrasings per fact; the held-out phrasings are
never trained on and measure whether the expert learned the fact or the sentence.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from shared.errors import InvalidRequest

TRAIN_PHRASINGS = (
    "What is the {relation} of {subject}?",
    "What's the {relation} of {subject}?",
    "Tell me the {relation} of {subject}.",
    "{subject}: what is its {relation}?",
)
HELD_OUT_PHRASINGS = (
    "Which is the {relation} of {subject}?",
    "Do you know the {relation} of {subject}?",
    "Name the {relation} of {subject}.",
)
MAX_FIELD_CHARS = 300


class FactTableError(InvalidRequest):
    """A malformed table: the message names the file, the line and the field."""


@dataclass(frozen=True)
class Fact:
    answers: tuple[str, ...]
    subject: str = ""
    relation: str = ""
    question: str = ""  # set when the table gives the question itself

    def questions(self, phrasings: tuple[str, ...]) -> list[str]:
        if self.question:
            return [self.question]
        return [p.format(subject=self.subject, relation=self.relation) for p in phrasings]

    @property
    def domain(self) -> str:
        return self.relation or "questions"


def load_facts(path: Path) -> list[Fact]:
    if not path.is_file():
        raise FactTableError(f"{path}: no such fact table")
    rows = _jsonl_rows(path) if path.suffix.lower() in (".jsonl", ".json") else _csv_rows(path)
    facts = [_fact(path, line, row) for line, row in rows]
    if not facts:
        raise FactTableError(f"{path}: the table has no facts")
    return facts


def table_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise FactTableError(f"{path}:1: no header (subject,relation,answer or question,answers)")
        rows = []
        for row in reader:
            if None in row:
                raise FactTableError(f"{path}:{reader.line_num}: more fields than the header names")
            rows.append((reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items()}))
        return rows


def _jsonl_rows(path: Path) -> list[tuple[int, dict]]:
    rows = []
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FactTableError(f"{path}:{line}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise FactTableError(f"{path}:{line}: expected an object with subject/relation/answer or question/answers")
        rows.append((line, row))
    return rows


def _fact(path: Path, line: int, row: dict) -> Fact:
    def field(name: str) -> str:
        value = row.get(name, "")
        if isinstance(value, list):
            value = "|".join(str(v) for v in value)
        if not isinstance(value, str):
            raise FactTableError(f"{path}:{line}: field {name!r} must be text")
        if len(value) > MAX_FIELD_CHARS:
            raise FactTableError(f"{path}:{line}: field {name!r} is longer than {MAX_FIELD_CHARS} characters")
        return value.strip()

    if "question" in row:
        question, answers = field("question"), field("answers") or field("answer")
        if not question:
            raise FactTableError(f"{path}:{line}: field 'question' is empty")
        if not answers:
            raise FactTableError(f"{path}:{line}: field 'answers' is empty")
        return Fact(answers=_split(answers), question=question)
    for name in ("subject", "relation", "answer"):
        if not field(name):
            raise FactTableError(f"{path}:{line}: field {name!r} is missing or empty")
    return Fact(answers=_split(field("answer")), subject=field("subject"), relation=field("relation"))


def _split(answers: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in answers.split("|") if a.strip())
