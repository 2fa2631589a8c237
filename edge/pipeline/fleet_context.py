"""What an escalation tells the cloud for fleet learning, as far as [edge.fleet] share allows."""

from __future__ import annotations

from dataclasses import replace

from edge.core.protocols import Draft, Embedder, LazyVector
from shared.config.fleet import FleetShare
from shared.types import EdgeContext


async def shared_with_fleet(
    context: EdgeContext, share: FleetShare, embedder: Embedder | None, vector: LazyVector, draft: Draft
) -> EdgeContext:
    """The context with the router's embedding of the question (comparable with the fleet router's rows), its
    embedder and whether the draft was whole; unchanged when the device shares nothing."""
    if share == "off" or embedder is None or (embedding := await vector.get()) is None:
        return context
    return replace(
        context,
        fleet_share=share,
        question_embedding=tuple(embedding.tolist()),
        embedder=embedder.name,
        draft_cut_short=draft.stopped_early,
    )
