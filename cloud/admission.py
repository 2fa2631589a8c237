"""A non-blocking cap on concurrent streams: beyond it, callers are told to come back later."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from shared.errors import Overloaded


class ConcurrencyLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        # No await between check and increment: safe on one event loop without a lock.
        if self.active >= self.limit:
            raise Overloaded(f"server is at its cap of {self.limit} concurrent requests; retry later")
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
