"""Typed placeholders for personal data within one request, and their values put back on the device.

The same value gets the same placeholder (`<EMAIL_1>`) wherever it appears in the request: the prompt, the
history and the edge's draft. The mapping lives only in this object, in the request's memory; the cloud's
answer gets its values back before the app sees it, in streamed pieces too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

PrivacyMode = Literal["off", "redact", "local_only"]
MODES: tuple[PrivacyMode, ...] = ("off", "redact", "local_only")  # from loosest to strictest
KEPT_LOCAL = "kept_local"  # why a direct ask of the cloud did not happen (UplinkDone.failure)

# Entity type -> placeholder tag.
TAGS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "card": "CARD",
    "iban": "IBAN",
    "ip": "IP",
    "ssn": "SSN",
    "crypto": "WALLET",
    "secret": "SECRET",
    "person": "PERSON",
    "location": "LOCATION",
}
KINDS = tuple(TAGS)
# Values whose formatting varies (spaces, dashes, dots): matched by their letters and digits alone.
_LOOSE_KINDS = {"phone", "card", "iban", "ssn"}
PLACEHOLDER = re.compile(r"<([A-Z]+)_(\d+)>")
_PARTIAL = re.compile(r"<[A-Z]*(?:_\d*)?")  # what a placeholder cut at a delta's end can look like
_SEPARATORS = r"[\s.\-()/]*"
_NATIONAL_DIGITS = 10
_MIN_NAME_PART = 3  # a name's parts this long are redacted on their own too ("Jane" of "Jane Doe")


def strictest(*modes: PrivacyMode) -> PrivacyMode:
    return max(modes, key=MODES.index)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    score: float = 1.0


class Redaction:
    """One request's mapping between found values and their placeholders (never written anywhere)."""

    def __init__(self, texts: tuple[str, ...] = ()) -> None:
        self._tags: dict[str, str] = {}  # placeholder -> value
        self._values: dict[str, str] = {}  # value (lower-cased) -> placeholder
        self._forms: list[tuple[str, str]] = []  # (pattern of one form of a value, its placeholder)
        self._combined: re.Pattern[str] | None = None
        self._order: list[str] = []  # placeholders in the order of the combined pattern's alternatives
        self._counts: dict[str, int] = {}
        # Placeholders already in the input are never reused: restoring them would change the user's text.
        self._taken = {m.group(0) for text in texts for m in PLACEHOLDER.finditer(text)}

    def add(self, kind: str, value: str) -> str:
        """The placeholder of `value` (the same one each time it is added, whatever its case)."""
        value = value.strip()
        if (known := self._values.get(value.lower())) is not None:
            return known
        tag = self._new_tag(kind, value)
        self._learn(kind, value, tag)
        if kind == "person":  # a part of the name alone ("Jane") has its own placeholder, restored to that part
            for part in value.split():
                if len(part) >= _MIN_NAME_PART and part[0].isupper() and part.lower() not in self._values:
                    self._learn(kind, part, self._new_tag(kind, part))
        return tag

    def _new_tag(self, kind: str, value: str) -> str:
        n = self._counts.get(kind, 0)
        while True:
            n += 1
            tag = f"<{TAGS[kind]}_{n}>"
            if tag not in self._taken:
                break
        self._counts[kind] = n
        self._tags[tag] = value
        self._values[value.lower()] = tag
        return tag

    def _learn(self, kind: str, value: str, tag: str) -> None:
        forms = [value]
        digits = "".join(c for c in value if c.isdigit())
        if kind == "phone" and len(digits) > _NATIONAL_DIGITS:  # the number without its country code
            forms.append(digits[-_NATIONAL_DIGITS:])
        for form in forms:
            if kind in _LOOSE_KINDS:
                pattern = _SEPARATORS.join(re.escape(c) for c in form if c.isalnum())
                self._forms.append((rf"(?<![0-9A-Za-z+])\+?{pattern}(?![0-9A-Za-z])", tag))
            else:
                self._forms.append((rf"(?<!\w){re.escape(form)}(?!\w)", tag))
        self._combined = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The entity types this request's placeholders stand for, sorted."""
        names = {tag.strip("<>").rsplit("_", 1)[0] for tag in self._tags}
        return tuple(sorted(kind for kind, name in TAGS.items() if name in names))

    def __bool__(self) -> bool:
        return bool(self._tags)

    def redact(self, text: str) -> str:
        """`text` with every known value (in any of its formats and cases) replaced by its placeholder, in one
        pass: a placeholder already there is left as it is, never matched inside."""
        if not self._forms:
            return text
        if self._combined is None:
            forms = sorted(self._forms, key=lambda f: -len(f[0]))  # the longest value first
            self._order = [tag for _, tag in forms]
            alternatives = "|".join(f"({pattern})" for pattern, _ in forms)
            self._combined = re.compile(f"({PLACEHOLDER.pattern})|{alternatives}", re.IGNORECASE)
        first = PLACEHOLDER.groups + 2  # the group of the first value's pattern

        def swap(m: re.Match[str]) -> str:
            return m.group(0) if m.group(1) is not None else self._order[(m.lastindex or first) - first]

        return self._combined.sub(swap, text)

    def restore(self, text: str) -> str:
        return PLACEHOLDER.sub(lambda m: self._tags.get(m.group(0), m.group(0)), text)

    def restorer(self) -> StreamRestorer:
        return StreamRestorer(self)


class StreamRestorer:
    """Restores placeholders in streamed pieces: a placeholder split across two pieces comes out whole."""

    def __init__(self, redaction: Redaction) -> None:
        self._redaction = redaction
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._held + piece
        cut = text.rfind("<")
        if cut != -1 and _PARTIAL.fullmatch(text[cut:]) and len(text) - cut <= 24:
            text, self._held = text[:cut], text[cut:]
        else:
            self._held = ""
        return self._redaction.restore(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return self._redaction.restore(text)


@dataclass(frozen=True)
class PersonalData:
    """What the privacy gate found in one request and what its policy does about it."""

    mode: PrivacyMode = "off"  # the strictest action over the types found ("off": nothing to act on)
    redaction: Redaction = field(default_factory=Redaction, compare=False, repr=False)
    checked: bool = False  # the app's privacy gate has seen the request
    scan: Callable[[str], Sequence[Span]] | None = field(default=None, compare=False, repr=False)

    def learn(self, text: str) -> None:
        """Adds what the gate's detector finds in `text` (the edge's draft, a degraded answer) to this request's
        placeholders, so that it leaves redacted too (blocking: call it in a thread)."""
        if self.found and self.scan is not None:
            for span in self.scan(text):
                self.redaction.add(span.kind, text[span.start : span.end])

    @property
    def found(self) -> bool:
        """Personal data the policy acts on: the request leaves no trace of it on disk."""
        return self.mode != "off" and bool(self.redaction)

    @property
    def keep_local(self) -> bool:
        return self.found and self.mode == "local_only"

    @property
    def redacts(self) -> bool:
        return self.found and self.mode == "redact"

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.redaction.kinds if self.found else ()

    def redact(self, text: str) -> str:
        return self.redaction.redact(text) if self.found else text

    def restorer(self) -> StreamRestorer | None:
        return self.redaction.restorer() if self.redacts else None


NO_PERSONAL_DATA = PersonalData()
