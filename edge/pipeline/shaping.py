"""Deltas that concatenate to exactly the answer served: a question's answer is stripped, even mid-stream."""

from __future__ import annotations


class DeltaShaper:
    """For a question: drops leading whitespace and holds trailing whitespace until more text follows it."""

    def __init__(self, strip: bool) -> None:
        self.strip = strip
        self._started = False
        self._held = ""

    def feed(self, text: str) -> str:
        if not self.strip:
            return text
        if not self._started:
            text = text.lstrip()
            if not text:
                return ""
            self._started = True
        text = self._held + text
        body = text.rstrip()
        self._held = text[len(body) :]
        return body


def shape_answer(text: str, strip: bool) -> str:
    return text.strip() if strip else text
