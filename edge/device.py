"""Device state (CPU, memory, battery, temperature) and the rule that turns it into a threshold shift."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shared.config import ResourceConfig


@dataclass(frozen=True)
class DeviceState:
    cpu_percent: float
    memory_available_percent: float
    battery_percent: float | None = None
    plugged_in: bool | None = None
    temperature_c: float | None = None


class DeviceSensor(Protocol):
    def read(self) -> DeviceState: ...


class PsutilSensor:
    """Real readings; battery and temperature are None where the device has no such sensor."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        psutil.cpu_percent(interval=None)  # primes the counter: later calls report load since the last one

    def read(self) -> DeviceState:
        ps = self._psutil
        battery = ps.sensors_battery() if hasattr(ps, "sensors_battery") else None
        temps = ps.sensors_temperatures() if hasattr(ps, "sensors_temperatures") else {}
        readings = [t.current for entries in temps.values() for t in entries if t.current]
        return DeviceState(
            cpu_percent=ps.cpu_percent(interval=None),
            memory_available_percent=ps.virtual_memory().available * 100 / ps.virtual_memory().total,
            battery_percent=battery.percent if battery else None,
            plugged_in=battery.power_plugged if battery else None,
            temperature_c=max(readings) if readings else None,
        )


@dataclass(frozen=True)
class ThresholdDecision:
    threshold: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


def adjust_threshold(base_threshold: float, state: DeviceState, rules: ResourceConfig) -> ThresholdDecision:
    """Raises the threshold (escalates more eagerly) while local compute is expensive for the device.

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
    return ThresholdDecision(min(1.0, max(0.0, base_threshold + shift)), tuple(reasons))
