"""One detector for every kind of personal data, run once per text; chat history is not analysed again."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from edge.core.redaction import PLACEHOLDER, Span
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
    """Spans by the SHA-256 of their text: the memo keeps no text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: OrderedDict[bytes, list[Span]] = OrderedDict()

    def get(self, text: str) -> list[Span] | None:
        key = hashlib.sha256(text.encode()).digest()
        with self._lock:
            if (known := self._spans.get(key)) is not None:
                self._spans.move_to_end(key)
            return known

    def put(self, text: str, spans: list[Span]) -> None:
        with self._lock:
            self._spans[hashlib.sha256(text.encode()).digest()] = spans
            if len(self._spans) > _MEMO_TEXTS:
                self._spans.popitem(last=False)


class PersonalDataDetector:
    """Structured types by pattern and checksum, names and private places by NER (only when asked for)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self._structured = StructuredDetector(kinds)
        self._names = NameDetector(kinds)
        self._memos = (_Memo(), _Memo())  # structured, named
        # Requests wait here for the one NER model, not in the default pool that SQLite writes need.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="privacy")

    def warm(self) -> None:
        """Loads the NER model now rather than on the first request."""
        self._names.warm()

    def spans(self, text: str, kinds: frozenset[str]) -> tuple[Span, ...]:
        """The spans of `kinds` in `text` (NER runs only when `kinds` has person or location)."""
        found = self._found(text, self._memos[0], self._structured.spans)
        if kinds & _NAMED:
            found = found + self._found(text, self._memos[1], self._names.spans)
        held = [m.span() for m in PLACEHOLDER.finditer(text)]  # a re-asked redacted text: its placeholders stay
        found = [s for s in found if s.kind in kinds and not any(s.start < e and b < s.end for b, e in held)]
        return tuple(_resolve(found))

    @staticmethod
    def _found(text: str, memo: _Memo, detect) -> list[Span]:
        if (known := memo.get(text)) is None:
            known = detect(text)
            memo.put(text, known)
        return known
