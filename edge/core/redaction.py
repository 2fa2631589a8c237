"""Typed placeholders for personal data within one request, and their values put back on the device.

The same value gets the same placeholder (`<EMAIL_1>`) wherever it appears in the request: the prompt, the
history and the edge's draft. The mapping lives only in this object, in the request's memory; the cloud's
answer gets its values back before the app sees it, in streamed pieces too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

PrivacyMode = Literal["off", "redact", "local_only"]
MODES: tuple[PrivacyMode, ...] = ("off", "redact", "local_only")  # from loosest to strictest

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
        self._values: dict[str, str] = {}  # value -> placeholder
        self._patterns: list[tuple[re.Pattern[str], str]] = []  # longest value first
        self._counts: dict[str, int] = {}
        # Placeholders already in the input are never reused: restoring them would change the user's text.
        self._taken = {m.group(0) for text in texts for m in PLACEHOLDER.finditer(text)}

    def add(self, kind: str, value: str) -> str:
        """The placeholder of `value` (the same one each time it is added)."""
        value = value.strip()
        if value in self._values:
            return self._values[value]
        n = self._counts.get(kind, 0)
        while True:
            n += 1
            tag = f"<{TAGS[kind]}_{n}>"
            if tag not in self._taken:
                break
        self._counts[kind] = n
        self._tags[tag] = value
        self._values[value] = tag
        self._learn(kind, value, tag)
        return tag

    def _learn(self, kind: str, value: str, tag: str) -> None:
        forms = [value]
        digits = "".join(c for c in value if c.isdigit())
        if kind == "phone" and len(digits) > _NATIONAL_DIGITS:  # the number without its country code
            forms.append(digits[-_NATIONAL_DIGITS:])
        if kind == "person":
            forms += [part for part in value.split() if len(part) >= _MIN_NAME_PART and part[0].isupper()]
        for form in forms:
            if kind in _LOOSE_KINDS:
                pattern = _SEPARATORS.join(re.escape(c) for c in form if c.isalnum())
                regex = re.compile(rf"(?<![0-9A-Za-z+])\+?{pattern}(?![0-9A-Za-z])", re.IGNORECASE)
            else:
                regex = re.compile(rf"(?<!\w){re.escape(form)}(?!\w)")
            self._patterns.append((regex, tag))
        self._patterns.sort(key=lambda p: -len(p[0].pattern))

    @property
    def kinds(self) -> tuple[str, ...]:
        """The entity types this request's placeholders stand for, sorted."""
        names = {tag.strip("<>").rsplit("_", 1)[0] for tag in self._tags}
        return tuple(sorted(kind for kind, name in TAGS.items() if name in names))

    def __bool__(self) -> bool:
        return bool(self._tags)

    def redact(self, text: str) -> str:
        """`text` with every known value (in any of its formats) replaced by its placeholder."""
        for regex, tag in self._patterns:
            text = regex.sub(tag, text)
        return text

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
