"""Structured personal data with no model: Presidio's pattern recognizers (with their checksums) and secrets."""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
import tldextract
from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    UsSsnRecognizer,
)

from edge.core.redaction import Span
from edge.privacy.secrets import secret_spans

# Presidio's weakest patterns (any 9 digits as an SSN: 0.05) would flag plain numbers; its real formats score >= 0.4.
MIN_SCORE = 0.3
# Presidio's phone recognizer scans the whole text once per region (most of its cost): only number-shaped runs
# are parsed here, as international numbers or as numbers of these regions (Presidio's defaults).
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{5,18}\d(?:\s*(?:x|ext\.?)\s*\d{1,5})?(?!\w)")
_YEARS = re.compile(r"(?:1[5-9]|20)\d\d\s*[-./]\s*(?:1[5-9]|20)?\d\d")  # 1990-1995, 2019/20: years, not numbers
_CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d-])")
# A bare run of digits right after one of these words is a phone number (Presidio's context words for phones).
_PHONE_CUE = re.compile(r"\b(?:phone|number|call|tel|mobile|cell|ring|text|whatsapp|fax)\b", re.IGNORECASE)
_CUE_CHARS = 24
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR")

# tldextract fetches the public suffix list on first use; the device uses the snapshot it ships, never the network.
_OFFLINE_TLDS = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLDS(pattern_text.rsplit("@", 1)[-1]).suffix != ""


def _phone_shaped(candidate: str) -> bool:
    """Possible numbers are many; a bare run of digits counts as a phone number only when it is long enough."""
    if _YEARS.fullmatch(candidate):
        return False
    bare = candidate.isdigit()
    return not bare or len(candidate) >= 10 or (candidate.startswith("0") and len(candidate) >= 9)


def phone_spans(text: str) -> list[Span]:
    found = []
    for m in _PHONE_CANDIDATE.finditer(text):
        candidate = m.group(0)
        if candidate.startswith("00"):  # the international prefix most of the world dials
            candidate = "+" + candidate[2:]
        if not 7 <= sum(c.isdigit() for c in candidate) <= 20:
            continue
        for region in _PHONE_REGIONS:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                break
            shaped = _phone_shaped(candidate) or _PHONE_CUE.search(text, max(0, m.start() - _CUE_CHARS), m.start())
            if phonenumbers.is_possible_number(number) and shaped:
                found.append(Span(m.start(), m.end(), "phone", 0.4))
                break
    return found


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def card_spans(text: str) -> list[Span]:
    """Payment cards as ISO/IEC 7812 defines them: 12 to 19 digits, grouped any way, passing the Luhn check
    (Presidio's card patterns miss 2-series Mastercard, 19-digit and ungrouped numbers)."""
    found = []
    for m in _CARD_CANDIDATE.finditer(text):
        digits = "".join(c for c in m.group(0) if c.isdigit())
        if _luhn(digits) and len(set(digits)) > 1:
            found.append(Span(m.start(), m.end(), "card", 1.0))
    return found


def _has_digits(text: str, n: int) -> bool:
    return sum(c.isdigit() for c in text) >= n


# kind -> (recognizer factory, a cheap test that the text could hold one)
_RECOGNIZERS: dict[str, tuple[Callable[[], EntityRecognizer], Callable[[str], bool]]] = {
    "email": (OfflineEmailRecognizer, lambda t: "@" in t),
    "iban": (IbanRecognizer, lambda t: _has_digits(t, 8)),
    "ip": (IpRecognizer, lambda t: "." in t or ":" in t),
    "ssn": (UsSsnRecognizer, lambda t: _has_digits(t, 9)),
    "crypto": (CryptoRecognizer, lambda t: len(t) >= 26),
}


class StructuredDetector:
    """E-mail, phone, payment card (Luhn), IBAN (mod 97), IP, US SSN, crypto wallets and secrets."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self._recognizers = [(kind, make(), could) for kind, (make, could) in _RECOGNIZERS.items() if kind in kinds]
        self._secrets = "secret" in kinds
        self._phones = "phone" in kinds
        self._cards = "card" in kinds

    def spans(self, text: str) -> list[Span]:
        found = secret_spans(text) if self._secrets else []
        if self._phones:
            found += phone_spans(text)
        if self._cards:
            found += card_spans(text)
        for kind, recognizer, could in self._recognizers:
            if not could(text):
                continue
            for r in recognizer.analyze(text, recognizer.supported_entities, None):  # type: ignore[arg-type]
                if r.score >= MIN_SCORE:
                    found.append(Span(r.start, r.end, kind, r.score))
        return found
