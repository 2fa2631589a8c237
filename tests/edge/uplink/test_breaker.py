"""Circuit breaker transitions with an injected clock (pure logic)."""

from edge.uplink.breaker import BreakerState, CircuitBreaker
from tests.clock import ManualClock


def test_opens_after_threshold_then_half_opens_and_recovers():
    clock = ManualClock()
    b = CircuitBreaker(failure_threshold=2, reset_after_s=10, clock=clock)
    assert b.allow()
    b.record_failure()
    assert b.state == BreakerState.CLOSED
    b.record_failure()
    assert b.state == BreakerState.OPEN and not b.allow()
    clock.t = 10.0
    assert b.state == BreakerState.HALF_OPEN
    assert b.allow() and not b.allow(), "one trial call at a time"
    b.record_success()
    assert b.state == BreakerState.CLOSED and b.allow()


def test_failed_trial_reopens():
    clock = ManualClock()
    b = CircuitBreaker(failure_threshold=1, reset_after_s=5, clock=clock)
    b.record_failure()
    clock.t = 5.0
    assert b.allow()
    b.record_failure()
    assert b.state == BreakerState.OPEN
    clock.t = 9.0
    assert not b.allow()


def test_success_resets_failure_count():
    b = CircuitBreaker(failure_threshold=2, reset_after_s=5, clock=ManualClock())
    b.record_failure()
    b.record_success()
    b.record_failure()
    assert b.state == BreakerState.CLOSED
