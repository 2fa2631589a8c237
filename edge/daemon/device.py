"""Device state (CPU, memory, battery, temperature) and the rule that turns it into a threshold shift."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from edge.pipeline.decision import DeviceShift
from shared.config import ResourceConfig


@dataclass(frozen=True)
class DeviceState:
    cpu_percent: float  # load from other processes than Tandem's own
    memory_available_percent: float
    battery_percent: float | None = None
    plugged_in: bool | None = None
    temperature_c: float | None = None


class DeviceSensor(Protocol):
    def read(self) -> DeviceState: ...


class PsutilSensor:
    """Real readings; battery and temperature are None where the device has no such sensor.

    `cpu_percent` is the load of *other* processes: the daemon's own work (llama.cpp generation, embedding,
    and any child processes) is subtracted, so a rule that escalates on a busy CPU never feeds on itself.
    """

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._own = psutil.Process()
        self._cores = psutil.cpu_count() or 1
        self._last = self._busy_seconds()

    def _busy_seconds(self) -> tuple[float, float, float]:
        """(wall clock, CPU seconds busy system-wide, CPU seconds used by this process and its children)."""
        ps = self._psutil
        system = ps.cpu_times()
        # Not busy here: idle, waiting on I/O, stolen by a VM's host; guest time is counted in user time already.
        unused = ("idle", "iowait", "steal", "guest", "guest_nice")
        busy = sum(system) - sum(getattr(system, field, 0.0) for field in unused)
        own_times = self._own.cpu_times()
        own = own_times.user + own_times.system
        for child in self._own.children(recursive=True):
            try:
                times = child.cpu_times()
            except (ps.NoSuchProcess, ps.AccessDenied):
                continue
            own += times.user + times.system
        return time.monotonic(), busy, own

    def other_cpu_percent(self) -> float:
        """CPU load of every process but this one (and its children) since the last call, 0-100."""
        now = self._busy_seconds()
        (t0, busy0, own0), (t1, busy1, own1) = self._last, now
        self._last = now
        capacity = max(t1 - t0, 1e-6) * self._cores
        others = (busy1 - busy0) - max(0.0, own1 - own0)
        return float(min(100.0, max(0.0, 100.0 * others / capacity)))

    def read(self) -> DeviceState:
        ps = self._psutil
        battery = ps.sensors_battery() if hasattr(ps, "sensors_battery") else None
        temps = ps.sensors_temperatures() if hasattr(ps, "sensors_temperatures") else {}
        readings = [t.current for entries in temps.values() for t in entries if t.current]
        memory = ps.virtual_memory()
        return DeviceState(
            cpu_percent=self.other_cpu_percent(),
            memory_available_percent=memory.available * 100 / memory.total,
            battery_percent=battery.percent if battery else None,
            plugged_in=battery.power_plugged if battery else None,
            temperature_c=max(readings) if readings else None,
        )


def device_shift(state: DeviceState, rules: ResourceConfig) -> DeviceShift:
    """Escalate more eagerly (positive shift) while local compute is expensive for the device.

    A cloud that is down needs no rule here: the circuit breaker answers locally at once (degraded).
    """
    shift = 0.0
    reasons = []
    on_battery = state.plugged_in is False
    if on_battery and state.battery_percent is not None and state.battery_percent < rules.low_battery_percent:
        shift += rules.low_battery_shift
        reasons.append("low_battery")
    if state.cpu_percent > rules.busy_cpu_percent:
        shift += rules.busy_cpu_shift
        reasons.append("cpu_busy")
    if state.memory_available_percent < rules.low_memory_percent:
        shift += rules.low_memory_shift
        reasons.append("low_memory")
    if state.temperature_c is not None and state.temperature_c > rules.hot_celsius:
        shift += rules.hot_shift
        reasons.append("hot")
    return DeviceShift(shift, tuple(reasons))
