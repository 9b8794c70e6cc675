"""When zsync checks a Zoho job: a growing schedule without history, and checks where the
job should end with it. Simulated against known durations (no clock, no server)."""

from __future__ import annotations

import itertools
import random
import statistics

from zsync.polling import Expectation, check_ages
from zsync.spec.model import Poll

POLL = Poll(first=1.0, max=60.0, timeout=7200.0)


def seen_at(duration: float, expected: Expectation | None, rng: random.Random) -> tuple:
    """(checks, delay, (lower, upper)) for one job of `duration` seconds."""
    lower = None
    for count, age in enumerate(check_ages(POLL, expected, rng), start=1):
        if age >= duration:
            return count, age - duration, (lower, age)
        lower = age
    raise AssertionError


def jobs(typical: float, n: int, seed: int, expected: Expectation | None) -> list[tuple]:
    rng = random.Random(seed)
    return [seen_at(typical * rng.uniform(0.9, 1.1), expected, rng) for _ in range(n)]


def test_without_history_checks_start_at_first_and_never_wait_past_max() -> None:
    ages = []
    for age in check_ages(POLL, None, random.Random(3)):
        ages.append(age)
        if age > 3600:
            break
    assert ages[0] == POLL.first
    gaps = [b - a for a, b in itertools.pairwise(ages)]
    assert all(0 < gap <= POLL.max + 1e-9 for gap in gaps)
    assert gaps[-1] == POLL.max  # an hour in, every minute


def test_first_run_sees_a_job_about_a_quarter_of_its_age_late() -> None:
    for typical in (10, 60, 120):
        seen = jobs(typical, 300, seed=typical, expected=None)
        delay = statistics.median(d for _, d, _ in seen)
        assert delay <= 0.25 * typical + 1, (typical, delay)
    calls = statistics.mean(c for c, _, _ in jobs(120, 300, seed=1, expected=None))
    assert calls <= 14, calls  # the price of that freshness: see the polling module


def test_with_history_two_or_three_checks_and_a_twentieth_of_the_age() -> None:
    for typical in (1, 10, 60, 120):
        first = jobs(typical, 20, seed=typical, expected=None)
        learned = Expectation.of([bounds for _, _, bounds in first])
        assert learned is not None
        second = jobs(typical, 300, seed=typical + 1, expected=learned)
        calls = statistics.mean(c for c, _, _ in second)
        delay = statistics.median(d for _, d, _ in second)
        assert calls <= 3, (typical, calls, learned)
        assert delay <= 0.05 * typical + 1, (typical, delay, learned)


def test_exact_durations_are_learned_without_creeping() -> None:
    expected = Expectation.of([(0.97, 1.01)] * 5)
    for _ in range(10):  # run after run, the estimate stays put
        count, delay, bounds = seen_at(1.0, expected, random.Random(0))
        assert count <= 2 and delay <= 0.05, (count, delay, expected)
        expected = Expectation.of([bounds] * 5)
    assert expected is not None and 0.97 <= expected.low <= expected.high <= 1.05


def test_one_outlier_each_way_is_ignored() -> None:
    bounds = [(9.5, 10.5)] * 8 + [(None, 1.0), (300.0, 310.0)]
    expected = Expectation.of(bounds)
    assert expected is not None
    assert 9.0 <= expected.low <= expected.high <= 11.0, expected


def test_history_of_widely_varying_durations_still_checks_every_max() -> None:
    expected = Expectation.of([(5.0, 6.0), (3000.0, 3100.0)])
    assert expected is not None
    ages = []
    for age in check_ages(POLL, expected, random.Random(1)):
        ages.append(age)
        if age > 4000:
            break
    gaps = [b - a for a, b in itertools.pairwise(ages)]
    assert max(gaps) <= POLL.max + 1e-9
