"""Everything one daemon holds, made by the app factory (nothing module-global)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from edge.agent import EdgeAgent
from edge.daemon.device import DeviceSensor, DeviceState, device_shift
from edge.daemon.metrics import DaemonMetrics
from edge.daemon.outbox import Outbox
from edge.pipeline.decision import NOMINAL_DEVICE, DeviceShift
from edge.pipeline.query import Query
from edge.pipeline.result import CascadeResult
from shared.config import TandemConfig

log = logging.getLogger(__name__)


@dataclass
class DaemonState:
    config: TandemConfig
    sensor: DeviceSensor
    metrics: DaemonMetrics = field(default_factory=DaemonMetrics)
    device: DeviceState | None = None
    shift: DeviceShift = NOMINAL_DEVICE
    agent: EdgeAgent | None = None
    outbox: Outbox | None = None

    def sample_device(self) -> None:
        self.device = self.sensor.read()
        self.shift = device_shift(self.device, self.config.resources)
        self.metrics.set_device(self.device, self.effective_threshold())

    def effective_threshold(self) -> float:
        """The configured threshold after the device shift and the cloud-share controller."""
        offset = self.agent.cascade.share.offset if self.agent else 0.0
        return min(1.0, max(0.0, self.config.edge.confidence.threshold + self.shift.shift + offset))

    async def sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.daemon.sensor_interval_s)
            try:
                await asyncio.to_thread(self.sample_device)
            except Exception:  # a flaky sensor must not stop the daemon
                log.exception("device sampling failed")

    async def record(self, query: Query, result: CascadeResult) -> None:
        """Bookkeeping of an answer, done before its last byte goes out."""
        assert self.agent is not None and self.outbox is not None
        if result.degraded:
            # Durable before the reply: a crash right after cannot lose the question.
            await asyncio.to_thread(self.outbox.add, query, result.answer, result.provenance.degraded_reason or "")
        await asyncio.to_thread(
            self.agent.outcomes.remember_served, query.request_id, query.text, result.served_by, None
        )
        self.metrics.observe(result)
