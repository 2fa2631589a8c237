"""Cache keys: the normalized request text plus every parameter that changes an answer."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata

from shared.types import SamplingParams


def normalize_text(text: str) -> str:
    """Model-independent normalization: Unicode NFKC, case-folded, whitespace collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def cache_key(text: str, sampling: SamplingParams, prompt_style: str) -> str:
    """The normalized request plus every parameter that changes the answer."""
    material = {
        "q": normalize_text(text),
        "style": prompt_style,
        "max_tokens": sampling.max_tokens,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "stop": list(sampling.stop),
        "seed": sampling.seed if sampling.temperature > 0 else None,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
