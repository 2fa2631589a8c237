"""Puts the values of personal data back into the cloud's answer, on the device, as it streams."""

from __future__ import annotations

from dataclasses import replace

from edge.core.protocols import UplinkDone
from edge.core.redaction import PersonalData


class Restorer:
    """The identity for a request that redacted nothing."""

    def __init__(self, privacy: PersonalData) -> None:
        self._privacy = privacy
        self._stream = privacy.restorer()

    def feed(self, piece: str) -> str:
        return piece if self._stream is None else self._stream.feed(piece)

    def flush(self) -> str:
        return "" if self._stream is None else self._stream.flush()

    def done(self, done: UplinkDone) -> UplinkDone:
        """The end of the escalation, its whole answer restored."""
        if done.result is None or not self._privacy.redacts:
            return done
        return replace(done, result=replace(done.result, text=self._privacy.redaction.restore(done.result.text)))
