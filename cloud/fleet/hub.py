"""The cloud's side of fleet learning while it serves: escalation records, label uploads, router downloads."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from cloud.fleet.artifacts import ArtifactStore
from cloud.fleet.records import FleetRecord, FleetRecorder
from shared.answers import draft_agrees, token_confidence
from shared.config import CloudFleetConfig
from shared.types import GenerationRequest

log = logging.getLogger(__name__)


def question_text(req: GenerationRequest) -> str:
    """What was asked of a chat or a raw prompt: the conversation's last user turn, or the prompt."""
    if req.messages:
        return next((m.content for m in reversed(req.messages) if m.role == "user"), req.messages[-1].content)
    return req.prompt or ""


class FleetHub:
    def __init__(self, config: CloudFleetConfig, root: Path) -> None:
        self.config = config
        self.recorder = FleetRecorder(config, root)
        self.artifacts = ArtifactStore(root)
        self._flushing: asyncio.Task | None = None

    def wants(self, tenant: str, req: GenerationRequest) -> bool:
        """Whether this stream is recorded: the device shares it and the tenant consented."""
        ctx = req.edge_context
        return (
            ctx is not None
            and ctx.fleet_share != "off"
            and bool(ctx.question_embedding)
            and self.recorder.consents(tenant)
        )

    def escalated(
        self, tenant: str, req: GenerationRequest, answer: str, logprobs: list[float], asked: str | None = None
    ) -> None:
        """One record of an escalation served (call only when `wants`); the text only where the device shares it.
        `asked`: the bare question as sent (the request holds its rendering by now)."""
        ctx = req.edge_context
        assert ctx is not None
        text = ctx.fleet_share == "text"
        agrees = draft_agrees(ctx.draft_answer, answer, not ctx.draft_cut_short) if ctx.draft_answer else None
        record = FleetRecord(
            tenant=tenant,
            created=time.time(),
            kind="escalation",
            record_id=req.request_id,
            device="",
            embedder=ctx.embedder,
            embedding=list(ctx.question_embedding),
            question=(asked or question_text(req)) if text else None,
            draft=ctx.draft_answer if text and ctx.draft_answer else None,
            answer=answer if text else None,
            agreement=agrees,
            confidence=ctx.confidence,
            cloud_confidence=token_confidence(logprobs),
            estimator=ctx.estimator,
            edge_model=ctx.edge_model,
            source="agreement",
        )
        if self.recorder.add(record):
            self.flush_soon()

    def add_labels(self, records: list[FleetRecord]) -> bool:
        """A device's uploaded labels; False when its tenant has not consented (nothing kept)."""
        if not records or not self.recorder.consents(records[0].tenant):
            return False
        due = False
        for r in records:
            due = self.recorder.add(r) or due
        if due:
            self.flush_soon()
        return True

    def flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_while_full())

    async def _flush_while_full(self) -> None:
        """Writes until fewer than flush_records wait (records may arrive during a write); a failed write is logged
        and its records are lost, never the service."""
        try:
            while await self.recorder.flush() and self.recorder.waiting >= self.config.flush_records:
                pass
        except Exception:
            log.exception("fleet records could not be written")

    async def run(self) -> None:
        """Writes buffered records every flush_s; cancelled at shutdown, after which `close` writes the rest."""
        while True:
            await asyncio.sleep(min(1.0, self.config.flush_s))
            if self.recorder.due:
                self.flush_soon()

    async def close(self) -> None:
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        written = await self.recorder.flush()
        if written:
            log.info("fleet records written at shutdown", extra={"records": written})
