"""Thresholds learned from audited semantic hits, and the error bound's arithmetic (pure logic)."""

from __future__ import annotations

import pytest

from edge.cache.hit_bound import AuditedHit, HitThresholds, learned_threshold
from shared.binomial import binomial_cdf, clopper_pearson_upper


def upper_bound(wrong: int, n: int) -> float:
    return clopper_pearson_upper(wrong, n, 0.95)


def test_the_bound_on_known_cases():
    # No error in n: the exact bound is 1 - 0.05 ** (1 / n) ("rule of three": about 3 / n).
    assert upper_bound(0, 299) == pytest.approx(1 - 0.05 ** (1 / 299), rel=1e-6)
    assert upper_bound(0, 299) < 0.01 < upper_bound(0, 250)
    # One error in 10: the 95 % one-sided Clopper-Pearson bound is 0.3942.
    assert upper_bound(1, 10) == pytest.approx(0.3942, abs=1e-4)
    assert upper_bound(0, 0) == 1.0 and upper_bound(3, 3) == 1.0
    assert binomial_cdf(1, 10, 0.3942) == pytest.approx(0.05, abs=1e-4)


def right(key: str, similarity: float) -> AuditedHit:
    return AuditedHit(key, similarity, True)


def wrong(key: str, similarity: float) -> AuditedHit:
    return AuditedHit(key, similarity, False)


def test_a_wrong_hit_lifts_the_threshold_above_it_until_many_right_ones_say_it_is_rare():
    assert learned_threshold([], 0.9, 0.01) == 0.9, "no audits: the configured threshold"
    assert learned_threshold([right("a", 0.95)] * 10, 0.9, 0.01) == 0.9
    lifted = learned_threshold([wrong("a", 0.93), right("b", 0.95)], 0.9, 0.01)
    assert 0.93 < lifted < 0.9301
    # 1 wrong among 200 audited hits above it: (1 + 1) / (201 + 100) < 0.01, the floor holds again.
    assert learned_threshold([wrong("a", 0.93)] + [right("b", 0.97)] * 200, 0.9, 0.01) == 0.9
    # A wrong hit at similarity 1.0 with nothing else: no threshold is safe, semantic hits stop.
    assert learned_threshold([wrong("a", 1.0)], 0.9, 0.01) > 1.0


def test_an_entry_found_wrong_is_tightened_alone():
    thresholds = HitThresholds(0.9, 0.5, [right("other", 0.95)] * 3)  # a loose bound: one error is within it
    thresholds.record(wrong("tomato", 0.94))
    assert thresholds.threshold == 0.9
    assert thresholds.for_entry("tomato") > 0.94 and thresholds.for_entry("other") == 0.9
    report = thresholds.report()
    assert (report.audited, report.wrong, report.tightened) == (4, 1, 1)


def test_the_report_gives_the_bound_of_the_hits_above_the_threshold():
    thresholds = HitThresholds(0.9, 0.01, [right("a", 0.95)] * 299)
    report = thresholds.report()
    assert report.observed_error == 0.0 and report.error_bound == pytest.approx(upper_bound(0, 299))
    assert HitThresholds(0.9, 0.01).report().error_bound is None, "no audits, no bound"
