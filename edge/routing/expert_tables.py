"""What an expert's fact table asks about: its question template and its subjects, read from its index questions.

Every fact question of a table built from `subject, relation, answer` rows shares one template ("What is the
capital of {subject}?"); the common prefix and suffix give it, the varying middles give the subjects. A question
names the expert's relation about a subject it holds when it contains one of the subjects and, with that subject
masked, reads like the masked template. Tables of free-form questions have no template and are matched as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MASK = "it"  # the masked subject: "What is the capital of it?" embeds close to its paraphrases, far from others


@dataclass(frozen=True)
class TableTemplate:
    prefix: str
    suffix: str
    subjects: tuple[str, ...]

    @property
    def masked(self) -> str:
        return f"{self.prefix}{MASK}{self.suffix}"

    def mask(self, question: str) -> str | None:
        """The question with the longest subject it names masked; None when it names none of them."""
        folded = question.casefold()
        for subject in sorted(self.subjects, key=len, reverse=True):
            found = re.search(rf"(?<!\w){re.escape(subject.casefold())}(?!\w)", folded)
            if found:
                return question[: found.start()] + MASK + question[found.end() :]
        return None


def common_prefix(texts: list[str]) -> str:
    first, last = min(texts), max(texts)  # the lexicographic extremes share exactly what all share
    n = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    return first[:n]


def table_template(questions: tuple[str, ...]) -> TableTemplate | None:
    """The template shared by a table's fact questions, or None (fewer than two, or no common frame)."""
    if len(questions) < 2:
        return None
    prefix = common_prefix(list(questions))
    prefix = prefix[: prefix.rfind(" ") + 1]  # a shared first letter of two subjects is not the frame
    suffix = common_prefix([q[::-1] for q in questions])[::-1]
    cut = next((i for i, ch in enumerate(suffix) if not ch.isalnum()), len(suffix))
    suffix = suffix[cut:]
    subjects = tuple(q[len(prefix) : len(q) - len(suffix)].strip() for q in questions)
    if not prefix.strip() or not all(subjects):
        return None
    return TableTemplate(prefix, suffix, subjects)
