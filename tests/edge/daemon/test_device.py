"""Resource-aware threshold shifts: injected readings for the rule, one real psutil reading."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
import time

import pytest

from edge.daemon.device import DeviceState, PsutilSensor, device_shift
from edge.pipeline.decision import decide
from shared.config import ResourceConfig

RULES = ResourceConfig()
IDLE = DeviceState(cpu_percent=10, memory_available_percent=60)


def test_idle_device_keeps_threshold():
    shift = device_shift(IDLE, RULES)
    assert shift.shift == 0.0 and shift.reasons == ()
    assert decide(0.5, device=shift).threshold == 0.5


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
    device = device_shift(state, RULES)
    assert device.reasons == (reason,)
    plan = decide(0.5, device=device)
    assert plan.threshold == pytest.approx(0.5 + shift)
    assert any(reason in r for r in plan.reasons)


def test_plugged_in_low_battery_is_fine_and_shifts_are_clipped():
    assert device_shift(DeviceState(10, 60, battery_percent=5, plugged_in=True), RULES).reasons == ()
    everything = DeviceState(99, 1, battery_percent=1, plugged_in=False, temperature_c=99)
    assert decide(0.9, device=device_shift(everything, RULES)).threshold == 1.0


def test_real_psutil_reading():
    state = PsutilSensor().read()
    assert 0.0 <= state.cpu_percent <= 100.0
    assert 0.0 < state.memory_available_percent <= 100.0
    assert state.battery_percent is None or 0.0 <= state.battery_percent <= 100.0
    shift = device_shift(state, RULES)
    per_rule = {
        "low_battery": RULES.low_battery_shift,
        "cpu_busy": RULES.busy_cpu_shift,
        "low_memory": RULES.low_memory_shift,
        "hot": RULES.hot_shift,
    }
    assert set(shift.reasons) <= set(per_rule), shift.reasons
    assert shift.shift == pytest.approx(sum(per_rule[r] for r in shift.reasons)), "the shift is its rules' sum"


def _burn(seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def _own_burn(sensor: PsutilSensor) -> float:
    """The device's CPU reading after this process burned every core for a second."""
    burners = [threading.Thread(target=_burn, args=(1.0,)) for _ in range(os.cpu_count() or 1)]
    for t in burners:
        t.start()
    for t in burners:
        t.join()
    return sensor.read().cpu_percent


def test_the_cpu_reading_ignores_tandems_own_work():
    """Real psutil readings: this process burning the cores is not 'busy'; another process doing so is."""
    sensor = PsutilSensor()
    time.sleep(1.0)
    baseline = sensor.read().cpu_percent  # whatever else runs on this machine
    own = min(_own_burn(sensor) for _ in range(2))  # the lower of two: a noisy neighbour on a VM is not our work
    # Orphaned at once (the shell exits): another process on the device, not a child of this one.
    burn = f"{shlex.quote(sys.executable)} -c 'import time\nt = time.time()\nwhile time.time() - t < 1.2: pass' &"
    for _ in range(os.cpu_count() or 1):
        subprocess.run(["sh", "-c", burn], check=True)
    time.sleep(1.1)
    external = sensor.read().cpu_percent
    time.sleep(0.2)
    assert own < baseline + 25, f"our own work made the device look busy ({baseline:.0f} % -> {own:.0f} %)"
    assert external > own + 30, f"an external busy process went unseen ({own:.0f} % -> {external:.0f} %)"
