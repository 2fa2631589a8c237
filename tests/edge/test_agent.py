"""The agent releases every resource even when one of them fails to close (real model, real SQLite)."""

from __future__ import annotations

import pytest

from edge.agent import EdgeAgent
from edge.cache.store import SqliteCache
from edge.routing.outcome_store import OutcomeStore
from shared.cli_flags import edge_config
from shared.llama_runtime import LlamaCppRunner

pytestmark = pytest.mark.model


async def test_close_releases_everything_even_when_one_close_fails(tmp_path, monkeypatch):
    closed = []
    for cls in (SqliteCache, OutcomeStore, LlamaCppRunner):
        original = cls.close

        def close(self, cls=cls, original=original) -> None:
            closed.append(cls.__name__)
            original(self)
            if cls is OutcomeStore:
                raise OSError("disk went away")

        monkeypatch.setattr(cls, "close", close)
    agent = EdgeAgent(edge_config(tmp_path, threads=1))
    with pytest.raises(OSError, match="disk went away"):
        await agent.close()
    assert sorted(closed) == ["LlamaCppRunner", "OutcomeStore", "SqliteCache"], "one failure stopped no other close"
