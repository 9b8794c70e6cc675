"""The first rows Zoho refused in a bulk write's results file, with its reasons: what a
person reads at the end of the run instead of opening the CSV."""

from __future__ import annotations

import csv
from pathlib import Path

LANDED = frozenset({"ADDED", "UPDATED"})
MAX_REASON = 200  # characters of one row's ERRORS shown


def first_refusals(results: Path, limit: int = 3) -> list[str]:
    """Up to `limit` of "row N: reason" (N counts the data rows from 1), read as a stream:
    the file may be long and the first refusals come early or not at all."""
    found: list[str] = []
    try:
        with open(results, encoding="utf-8", errors="replace", newline="") as handle:
            rows = csv.reader(handle)
            header = next(rows, [])
            if "STATUS" not in header:
                return []
            status, errors = (
                header.index("STATUS"),
                header.index("ERRORS") if "ERRORS" in header else None,
            )
            for number, row in enumerate(rows, start=1):
                if len(row) <= status or row[status] in LANDED:
                    continue
                reason = row[errors] if errors is not None and len(row) > errors else ""
                reason = " ".join(reason.split())[:MAX_REASON] or row[status]
                found.append(f"row {number}: {reason}")
                if len(found) >= limit:
                    break
    except (OSError, csv.Error):
        return found
    return found
