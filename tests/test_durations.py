from __future__ import annotations

import pytest

from zsync.durations import MAX_SECONDS, DurationTooLong, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("10s", 10),
        ("5m", 300),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        (3, 3.0),
        (0.25, 0.25),
        ("1d", 86400),
    ],
)
def test_parse(text, seconds) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "m5", "1h 30m", -1, 0])
def test_refuse(text) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["366d", "9" * 400 + "s", 1e300, float("inf"), float("nan")])
def test_refuse_what_no_run_waits_for(text) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_year_is_the_longest() -> None:
    assert parse_duration("365d") == MAX_SECONDS
    with pytest.raises(DurationTooLong):
        parse_duration("365d1s")
