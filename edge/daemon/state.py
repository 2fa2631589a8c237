"""Everything one daemon holds, made by the app factory (nothing module-global)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass, field

from fastapi import Request

from edge.agent import EdgeAgent
from edge.core.query import Query
from edge.daemon.auth import AppTokens
from edge.daemon.device import DeviceSensor, DeviceState, device_shift
from edge.daemon.metrics import DaemonMetrics
from edge.daemon.outbox import Outbox
from edge.namespace import AppNamespace
from edge.pipeline.decision import NOMINAL_DEVICE, DeviceShift
from edge.pipeline.result import CascadeResult
from shared.config import TandemConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppSpace:
    """What one app reaches: its namespace of the agent and its own outbox."""

    namespace: AppNamespace
    outbox: Outbox


@dataclass
class DaemonState:
    config: TandemConfig
    sensor: DeviceSensor
    metrics: DaemonMetrics = field(default_factory=DaemonMetrics)
    device: DeviceState | None = None
    shift: DeviceShift = NOMINAL_DEVICE
    spaces: dict[str, AppSpace] = field(default_factory=dict)
    _agent: EdgeAgent | None = None

    def __post_init__(self) -> None:
        self.tokens = AppTokens(self.config.daemon.api_keys)

    @property
    def agent(self) -> EdgeAgent:
        """The agent, from the start of the app's lifespan (no request is served before)."""
        if self._agent is None:
            raise RuntimeError("the daemon's agent is not running")
        return self._agent

    def start(self, agent: EdgeAgent) -> None:
        self._agent = agent

    def space(self, request: Request) -> AppSpace:
        """The caller's app space; 401 without a valid token when tokens are configured."""
        return self.spaces[self.tokens.namespace_of(request)]

    def sample_device(self) -> None:
        self.device = self.sensor.read()
        self.shift = device_shift(self.device, self.config.resources)
        self.metrics.set_device(self.device)

    async def sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.daemon.sensor_interval_s)
            try:
                await asyncio.to_thread(self.sample_device)
            except Exception:  # a flaky sensor must not stop the daemon
                log.exception("device sampling failed")

    async def record(self, space: AppSpace, query: Query, result: CascadeResult) -> None:
        """Bookkeeping of an answer, done before its last byte goes out."""
        try:
            if result.degraded and not query.privacy.keep_local:  # a local_only question is never re-asked
                # Durable before the reply: a crash right after cannot lose the question (redacted, if personal).
                reason = result.provenance.degraded_reason or ""
                await asyncio.to_thread(space.outbox.add, query, result.answer, reason)
            await asyncio.to_thread(space.namespace.remember_served, query, result)
            self.agent.storage.ok()
        except (sqlite3.Error, OSError) as exc:  # a full disk: the app still gets its answer; /healthz says so
            self.agent.storage.failed("outbox/served", exc)
        self.metrics.observe(result)
