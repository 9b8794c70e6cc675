"""An Analytics import's part size: Zoho's "100 MB" per file, read the strict way by default."""

from __future__ import annotations

import pytest

from zsync.spec import validate_spec
from zsync.spec.model import AnalyticsImport

from .test_analytics_export import HEADER

JOBS = HEADER + "  load:\n    import: {to: an, table: Sales, file: sales.csv%s}\n"


@pytest.mark.parametrize(
    ("option", "part_size"),
    [
        ("", 100_000_000),  # within 100 MB whether a MB is 10^6 or 2^20 bytes
        (", max_part_size: 104857600", 104_857_600),  # the larger reading, when asked for
    ],
)
def test_parts_stay_within_either_reading_of_100_mb(write_spec, option, part_size) -> None:
    result = validate_spec(write_spec(JOBS % option))
    assert result.spec is not None, [d.render() for d in result.diagnostics]
    action = result.spec.jobs["load"].action
    assert isinstance(action, AnalyticsImport)
    assert action.max_part_size == part_size


def test_a_part_over_either_reading_is_refused(write_spec) -> None:
    result = validate_spec(write_spec(JOBS % ", max_part_size: 104857601"))
    assert result.spec is None
    assert any("max_part_size" in d.render() for d in result.diagnostics)
