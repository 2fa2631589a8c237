"""One app's privacy policy applied to a query, once, before anything of it can leave the device."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import replace
from typing import cast

from edge.core.query import Query
from edge.core.redaction import KINDS, PersonalData, PrivacyMode, Redaction, strictest
from edge.privacy.detector import PersonalDataDetector
from shared.config.privacy import PrivacyConfig


def query_texts(query: Query) -> tuple[str, ...]:
    """Everything of a query the cloud could see: the question, the prompt or every message of the history, and
    the stop strings."""
    stops = query.stop or ()
    if query.messages is not None:
        return (*(m.content for m in query.messages), *stops)
    return (query.prompt if query.prompt is not None else query.question, *stops)


class PrivacyGate:
    def __init__(self, config: PrivacyConfig, namespace: str, detector: PersonalDataDetector) -> None:
        self._config = config
        self._namespace = namespace
        self._detector = detector

    def actions(self, requested: PrivacyMode = "off") -> dict[str, PrivacyMode]:
        """Each type's mode for this app; a request may only tighten it."""
        return {kind: strictest(self._config.action(self._namespace, kind), requested) for kind in KINDS}  # type: ignore[arg-type]

    async def scan(self, query: Query) -> Query:
        """`query` with what its app's policy, tightened by the request's, found in it (`query.privacy`)."""
        if query.privacy.checked:
            return query
        actions = self.actions(query.policy.privacy)
        acted = frozenset(kind for kind, mode in actions.items() if mode != "off")
        texts = query_texts(query)
        redaction, mode = Redaction(texts), cast(PrivacyMode, "off")
        if acted:
            found = await asyncio.get_running_loop().run_in_executor(
                self._detector.executor, lambda: [self._detector.spans(text, acted) for text in texts]
            )
            for text, spans in zip(texts, found, strict=True):
                for span in spans:
                    redaction.add(span.kind, text[span.start : span.end])
                    mode = strictest(mode, actions[span.kind])
        scan = functools.partial(self._detector.spans, kinds=acted)
        return replace(query, privacy=PersonalData(mode, redaction, checked=True, scan=scan))
