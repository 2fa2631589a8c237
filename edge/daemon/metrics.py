"""Prometheus metrics of one daemon, in its own registry (no module-level global state)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from edge.daemon.device import DeviceState
from edge.namespace import NamespaceStatus
from edge.pipeline.result import CascadeResult
from edge.privacy.egress import EgressTotals
from edge.uplink.breaker import BreakerState

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


@dataclass(frozen=True)
class DaemonGauges:
    """What /metrics reads at scrape time; the decision gauges per app namespace ("" without app tokens)."""

    cache_entries: int
    breaker: BreakerState
    outbox_pending: int
    local_running: int
    namespaces: dict[str, NamespaceStatus]


class EgressCollector(Collector):
    """Each app's egress log totals as counters: the log is append-only, so they never go down."""

    def __init__(self) -> None:
        self.totals: dict[str, EgressTotals] = {}

    def collect(self):
        requests = CounterMetricFamily("tandem_egress_requests", "Requests that left the device", labels=["namespace"])
        sent = CounterMetricFamily(
            "tandem_egress_bytes", "Bytes of requests that left the device", labels=["namespace"]
        )
        redacted = CounterMetricFamily(
            "tandem_egress_redacted", "Requests that left with placeholders of a type", labels=["namespace", "type"]
        )
        for namespace, t in self.totals.items():
            requests.add_metric([namespace], t.requests)
            sent.add_metric([namespace], t.bytes)
            for kind, n in t.redacted.items():
                redacted.add_metric([namespace, kind], n)
        yield from (requests, sent, redacted)


class DaemonMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("tandem_requests", "Answered requests by outcome", ["outcome"], registry=r)
        self.latency = Histogram(
            "tandem_request_latency_seconds",
            "End-to-end latency by path",
            ["path"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.edge_tokens = Counter("tandem_edge_tokens", "Tokens generated on the edge", registry=r)
        self.cloud_tokens = Counter("tandem_cloud_tokens", "Cloud tokens by kind", ["kind"], registry=r)
        self.cost = Counter("tandem_cost", "Accumulated cost under the configured cost model", registry=r)
        self.escalation_rate = Gauge(
            "tandem_escalation_rate",
            "Escalated share of the namespace's last policy decisions (forced routes excluded; window in /healthz)",
            ["namespace"],
            registry=r,
        )
        self.http_errors = Counter("tandem_http_errors", "Error responses by status", ["status"], registry=r)
        self.cache_entries = Gauge("tandem_cache_entries", "Answers in the local cache", registry=r)
        self.cache_hit_ratio = Gauge("tandem_cache_hit_ratio", "Cache hits over all answered requests", registry=r)
        self.breaker = Gauge("tandem_cloud_circuit_state", "Cloud circuit: 0 closed, 1 half-open, 2 open", registry=r)
        self.outbox_pending = Gauge("tandem_outbox_pending", "Degraded queries waiting for the cloud", registry=r)
        self.threshold = Gauge(
            "tandem_effective_threshold",
            "Escalation threshold after device rules and the share controller",
            ["namespace"],
            registry=r,
        )
        self.device = Gauge("tandem_device", "Device readings", ["reading"], registry=r)
        self.local_running = Gauge("tandem_local_generations", "Local generations queued or running", registry=r)
        self.cloud_share_target = Gauge(
            "tandem_cloud_share_target", "Target of the cloud-share controller", ["namespace"], registry=r
        )
        self.share_offset = Gauge(
            "tandem_threshold_offset", "Threshold offset of the cloud-share controller", ["namespace"], registry=r
        )
        self.reconciler_passes = Counter(
            "tandem_reconciler_passes", "Outbox reconciliation passes, by namespace", ["namespace"], registry=r
        )
        self.reconciled = Counter(
            "tandem_reconciled", "Degraded answers reconciled with the cloud, by namespace", ["namespace"], registry=r
        )
        self.kept_local = Counter(
            "tandem_privacy_kept_local", "Requests kept on the device for their personal data", registry=r
        )
        self.egress = EgressCollector()
        r.register(self.egress)
        self._counts = {"cache": 0, "edge": 0, "cloud": 0, "degraded": 0}

    def observe(self, result: CascadeResult) -> None:
        outcome = "degraded" if result.degraded else result.served_by
        self._counts[outcome] += 1
        self.requests.labels(outcome).inc()
        self.latency.labels(outcome).observe(result.timings.total_ms / 1000)
        self.edge_tokens.inc(result.tokens.edge)
        self.cloud_tokens.labels("prompt").inc(result.tokens.cloud_prompt)
        self.cloud_tokens.labels("completion").inc(result.tokens.cloud_completion)
        self.cost.inc(result.cost)
        if result.privacy.kept_local:
            self.kept_local.inc()
        self.cache_hit_ratio.set(self._counts["cache"] / sum(self._counts.values()))

    def reconciler_pass(self, namespace: str, reconciled: int) -> None:
        self.reconciler_passes.labels(namespace).inc()
        self.reconciled.labels(namespace).inc(reconciled)

    def set_device(self, state: DeviceState) -> None:
        readings = {
            "cpu_percent": state.cpu_percent,
            "memory_available_percent": state.memory_available_percent,
            "battery_percent": state.battery_percent,
            "temperature_celsius": state.temperature_c,
        }
        for name, value in readings.items():
            if value is not None:
                self.device.labels(name).set(value)

    def render(self, gauges: DaemonGauges) -> bytes:
        self.local_running.set(gauges.local_running)
        self.egress.totals = {ns: status.egress for ns, status in gauges.namespaces.items() if status.egress}
        for namespace, status in gauges.namespaces.items():
            share = status.share
            self.threshold.labels(namespace).set(status.effective_threshold)
            if share.realized is not None:
                self.escalation_rate.labels(namespace).set(share.realized)
            if share.target is not None:
                self.cloud_share_target.labels(namespace).set(share.target)
            self.share_offset.labels(namespace).set(share.offset)
        self.cache_entries.set(gauges.cache_entries)
        self.breaker.set(BREAKER_VALUES[gauges.breaker])
        self.outbox_pending.set(gauges.outbox_pending)
        return generate_latest(self.registry)
