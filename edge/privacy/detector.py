"""One detector for every kind of personal data, run once per text; chat history is not analysed again."""

from __future__ import annotations

import threading
from collections import OrderedDict

from edge.core.redaction import Span
from edge.privacy.names import NameDetector
from edge.privacy.structured import StructuredDetector

_NAMED = frozenset({"person", "location"})
_MEMO_TEXTS = 512  # recent messages whose spans are kept (in memory only): each turn resends the history


def _resolve(spans: list[Span]) -> list[Span]:
    """Overlapping spans: the more certain one, then the longer one, wins."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


class _Memo:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: OrderedDict[str, list[Span]] = OrderedDict()

    def get(self, text: str) -> list[Span] | None:
        with self._lock:
            if (known := self._spans.get(text)) is not None:
                self._spans.move_to_end(text)
            return known

    def put(self, text: str, spans: list[Span]) -> None:
        with self._lock:
            self._spans[text] = spans
            if len(self._spans) > _MEMO_TEXTS:
                self._spans.popitem(last=False)


class PersonalDataDetector:
    """Structured types by pattern and checksum, names and private places by NER (only when asked for)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self._structured = StructuredDetector(kinds)
        self._names = NameDetector(kinds)
        self._memos = (_Memo(), _Memo())  # structured, named

    def warm(self) -> None:
        """Loads the NER model now rather than on the first request."""
        self._names.warm()

    def spans(self, text: str, kinds: frozenset[str]) -> tuple[Span, ...]:
        """The spans of `kinds` in `text` (NER runs only when `kinds` has person or location)."""
        found = self._found(text, self._memos[0], self._structured.spans)
        if kinds & _NAMED:
            found = found + self._found(text, self._memos[1], self._names.spans)
        return tuple(_resolve([s for s in found if s.kind in kinds]))

    @staticmethod
    def _found(text: str, memo: _Memo, detect) -> list[Span]:
        if (known := memo.get(text)) is None:
            known = detect(text)
            memo.put(text, known)
        return known
