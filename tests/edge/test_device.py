"""Resource-aware thresholds: injected readings for the rule, one real psutil reading."""

from __future__ import annotations

import pytest

from edge.device import DeviceState, PsutilSensor, adjust_threshold
from shared.config import ResourceConfig

RULES = ResourceConfig()
IDLE = DeviceState(cpu_percent=10, memory_available_percent=60)


def test_idle_device_keeps_threshold():
    decision = adjust_threshold(0.5, IDLE, RULES)
    assert decision.threshold == 0.5 and decision.reasons == ()


@pytest.mark.parametrize(
    "state,reason,shift",
    [
        (DeviceState(10, 60, battery_percent=12, plugged_in=False), "low_battery", RULES.low_battery_shift),
        (DeviceState(97, 60), "cpu_busy", RULES.busy_cpu_shift),
        (DeviceState(10, 5), "low_memory", RULES.low_memory_shift),
        (DeviceState(10, 60, temperature_c=92), "hot", RULES.hot_shift),
    ],
)
def test_expensive_local_compute_escalates_more(state, reason, shift):
    decision = adjust_threshold(0.5, state, RULES)
    assert decision.reasons == (reason,)
    assert decision.threshold == pytest.approx(0.5 + shift)


def test_plugged_in_low_battery_is_fine_and_shifts_are_clipped():
    assert adjust_threshold(0.5, DeviceState(10, 60, battery_percent=5, plugged_in=True), RULES).reasons == ()
    everything = DeviceState(99, 1, battery_percent=1, plugged_in=False, temperature_c=99)
    assert adjust_threshold(0.9, everything, RULES).threshold == 1.0


def test_real_psutil_reading():
    state = PsutilSensor().read()
    assert 0.0 <= state.cpu_percent <= 100.0
    assert 0.0 < state.memory_available_percent <= 100.0
    assert state.battery_percent is None or 0.0 <= state.battery_percent <= 100.0
    assert isinstance(adjust_threshold(0.5, state, RULES).threshold, float)
