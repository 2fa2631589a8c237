"""Secrets pasted by accident: keys with a known prefix, private keys, JWTs, and long high-entropy tokens."""

from __future__ import annotations

import math
import re
from collections import Counter

from edge.core.redaction import Span

# Prefixes that name their issuer: a match is a secret whatever its entropy.
_KNOWN = re.compile(
    r"(?<![\w-])(?:"
    r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"  # GitHub
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWT
    r")"
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL)
_TOKEN = re.compile(r"(?<![\w+/-])[A-Za-z0-9+/_-]{24,}={0,2}(?![\w+/=-])")
_MIN_BITS_PER_CHAR = 3.5  # English words stay far below; random base64 and hex keys of this length above


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def _random_looking(token: str) -> bool:
    classes = sum(any(f(c) for c in token) for f in (str.isdigit, str.islower, str.isupper))
    return classes >= 2 and any(c.isdigit() for c in token) and _entropy(token) >= _MIN_BITS_PER_CHAR


def secret_spans(text: str) -> list[Span]:
    spans = [Span(m.start(), m.end(), "secret") for m in _KNOWN.finditer(text)]
    spans += [Span(m.start(), m.end(), "secret") for m in _PRIVATE_KEY.finditer(text)]
    spans += [Span(m.start(), m.end(), "secret", 0.8) for m in _TOKEN.finditer(text) if _random_looking(m.group(0))]
    return spans
