"""When two answers say the same thing: the grading rule of labeled questions, and of the edge's draft against
the cloud's answer to the same question (agreement labels)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

_ARTICLES = re.compile(r"^(the|a|an)\s+")


def normalize_answer(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.strip().splitlines()[0] if text.strip() else ""
    text = re.sub(r"[^\w\s-]", " ", text.casefold())
    return _ARTICLES.sub("", re.sub(r"\s+", " ", text).strip())


def says(answer: str, accepted: str) -> bool:
    """The normalized answer is the accepted one, or starts with it at a word boundary ("Paris, France"), its last
    word in the plural or not ("Paraguayans" says "Paraguayan": a demonym or unit asked in the singular is often
    answered in the plural)."""
    return bool(accepted) and any(answer == form or answer.startswith(form + " ") for form in _plurals(accepted))


def _plurals(word: str) -> tuple[str, ...]:
    forms = [word, word + "s", word + "es"]
    if word.endswith("y"):
        forms.append(word[:-1] + "ies")
    return tuple(forms)


def draft_agrees(draft: str, cloud: str, complete: bool) -> bool | None:
    """Whether the edge's draft says what the cloud said; None when that cannot be told.

    A draft cut short (early escalation) agrees once it has said the cloud's answer, disagrees once its text so far
    is not how the cloud's answer begins, and is unknown in between.
    """
    d, c = normalize_answer(draft), normalize_answer(cloud)
    if not c:
        return None
    if complete:
        return says(d, c) or says(c, d) if d else False
    if not d:
        return None
    if says(d, c):
        return True
    return None if c.startswith(d) else False


def token_confidence(logprobs: Sequence[float]) -> float | None:
    """A side's confidence in its answer: the geometric mean of its token probabilities (None: not known)."""
    return math.exp(sum(logprobs) / len(logprobs)) if logprobs else None


def agreement_labels(agrees: bool, cloud_sure: float | None) -> tuple[float, float | None]:
    """(edge right, cloud right) as the cloud's answer labels a draft: the edge is right when it said what the cloud
    said; the cloud as right as the edge when they agree, else as right as it was sure (None: not known)."""
    return float(agrees), 1.0 if agrees else cloud_sure
