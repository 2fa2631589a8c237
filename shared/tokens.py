"""Bearer tokens compared without telling, by timing, which one matched (cloud dev keys, daemon app tokens)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def match_token(presented: bytes, table: Sequence[tuple[bytes, T]]) -> T | None:
    """The value paired with `presented`, or None; every entry is compared, matched or not."""
    found = None
    for known, value in table:
        if secrets.compare_digest(presented, known):
            found = value
    return found
