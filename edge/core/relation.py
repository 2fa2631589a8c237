"""What a question asks, without whom or what it asks it about: the router compares questions by their relation.

Sentence embeddings place "What is the capital of Peru?" closer to "Which continent is Peru in?" than to "What is
the capital of Chad?", so labels of one kind of question barely reach the next question of the same kind. With
numbers and capitalized names masked, questions of one kind read alike and their labels count as evidence.
"""

from __future__ import annotations

import re

MASK = "X"
# Numbers, and words that start with a capital letter anywhere but at the start of the text.
_SUBJECT = re.compile(r"-?\d+(?:[.,]\d+)*|(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*")
_RUNS = re.compile(rf"{MASK}(?:[\s,]+(?:and\s+|of\s+|the\s+)?{MASK})+")


def relation_text(question: str) -> str:
    """The question with its numbers and names masked: "What is 7 plus 5?" -> "What is X plus X?"."""
    masked = _SUBJECT.sub(MASK, question.strip())
    return _RUNS.sub(MASK, masked)
