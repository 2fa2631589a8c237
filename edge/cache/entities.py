"""The guard of semantic matching: two questions must name the same entities and numbers.

Paraphrases score ~0.94 cosine, but "capital of France" vs "capital of Spain" still scores ~0.67 and
"12 plus 5" vs "12 plus 6" scores higher still: a similarity threshold alone serves wrong answers. The guard
requires the two questions to name the same entities (capitalized words after the first) and the same numbers.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w'’]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def _words(text: str) -> list[str]:
    # Possessives name the same entity: "France's" is France.
    return [re.sub(r"['’]s$", "", w) for w in _WORD.findall(text)]


def entities(text: str) -> set[str]:
    """Numbers, and capitalized words other than the first (case-folded)."""
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    found |= {w.casefold() for i, w in enumerate(_words(text)) if i > 0 and w[:1].isupper() and not w.isdigit()}
    return found


def same_entities(a: str, b: str) -> bool:
    """Every entity of each question appears as a word of the other (case-insensitive)."""
    words_a = {w.casefold() for w in _words(a)} | {n.replace(",", "") for n in _NUMBER.findall(a)}
    words_b = {w.casefold() for w in _words(b)} | {n.replace(",", "") for n in _NUMBER.findall(b)}
    return entities(a) <= words_b and entities(b) <= words_a
