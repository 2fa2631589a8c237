"""The capacity projection's arithmetic, on fixed measurements (the real measurement runs in the smoke test)."""

from __future__ import annotations

from benchmarks.capacity import Fleet, replica_capacity, replicas_needed

POINTS = [
    {"answer_tokens": 64, "concurrency": 1, "req_s": 0.4, "p99_ms": 2_600},
    {"answer_tokens": 64, "concurrency": 16, "req_s": 3.0, "p99_ms": 5_500},
    {"answer_tokens": 64, "concurrency": 32, "req_s": 3.4, "p99_ms": 12_000},
    {"answer_tokens": 128, "concurrency": 16, "req_s": 1.6, "p99_ms": 10_500},
]


def test_capacity_is_the_best_load_within_the_p99_target():
    assert replica_capacity(POINTS, 64, p99_target_s=10) == 3.0
    assert replica_capacity(POINTS, 64, p99_target_s=15) == 3.4
    assert replica_capacity(POINTS, 64, p99_target_s=1) == 0.0


def test_capacity_scales_by_tokens_from_the_nearest_measured_length():
    assert replica_capacity(POINTS, 80, p99_target_s=10) == 3.0 * 64 / 80


def test_replicas_cover_the_peak_hour():
    fleet = Fleet(devices=10_000, questions_per_day=50, escalation_rate=0.3, answer_tokens=64, p99_target_s=10)
    assert fleet.peak_requests_per_s == 10_000 * 50 * 0.3 * 3 / 86_400
    assert replicas_needed(fleet, 3.0) == 2  # 5.2 req/s at peak over 3.0 per replica
    assert replicas_needed(Fleet(10, 1, 0.1, 64, 10), 3.0) == 1
    assert replicas_needed(fleet, 0.0) is None
