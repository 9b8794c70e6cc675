"""Analytics SQL export on SQLite: load time, query times and memory at a big demo size.

    python bench/sql_speed.py [--rows 1000000] [--json PATH]

Builds an emulator with analytics.Sales sized `--rows` (as `zsync emulator --rows
analytics.Sales=N` does), then runs typical export queries through `AnalyticsState.run_sql`,
the code the SQL export endpoint calls. The first query loads the workspace into SQLite; the
rest reuse it. Reference: one pass over the generated rows in Python (what the old hand-written
engine paid on every query). Peak RSS is read from the kernel (Linux `ru_maxrss`).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zsync.emulator import EmulatorConfig
from zsync.emulator.emulator import Emulator

QUERIES = [
    "SELECT COUNT(*) FROM Sales",
    "SELECT Region, SUM(Amount) AS Total FROM Sales GROUP BY Region ORDER BY Region",
    "SELECT year(Date) AS y, month(Date) AS m, SUM(Units) FROM Sales GROUP BY y, m",
    "SELECT Product, COUNT(*) FROM Sales WHERE Region IN ('East', 'West') "
    "GROUP BY Product HAVING COUNT(*) > 10",
    "SELECT Customer, Amount FROM Sales ORDER BY Amount DESC LIMIT 10",
    "SELECT c.Segment, SUM(s.Amount) FROM Sales s JOIN Customers c "
    "ON c.Customer = s.Customer GROUP BY c.Segment",
    "SELECT * FROM Sales",
]
TARGETS = {"load_s": 60.0, "query_s": 10.0}  # load once per data version; each query after


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    emulator = Emulator(EmulatorConfig().with_sizes(analytics_Sales=args.rows))
    state = emulator.analytics
    start_rss = rss_mb()

    started = time.perf_counter()
    for _ in emulator.table("analytics", "Sales").rows():
        pass
    reference = time.perf_counter() - started

    started = time.perf_counter()
    state.run_sql("SELECT 1 FROM Sales LIMIT 1")
    load = time.perf_counter() - started
    loaded_rss = rss_mb()

    times: dict[str, float] = {}
    rows: dict[str, int] = {}
    for query in QUERIES:
        started = time.perf_counter()
        _, result = state.run_sql(query)
        times[query] = time.perf_counter() - started
        rows[query] = len(result)
        del result

    figures = {
        "rows": args.rows,
        "generate_rows_s": reference,
        "load_s": load,
        "load_only_s": state.sql.stats.seconds,
        "rss_before_mb": start_rss,
        "rss_after_load_mb": loaded_rss,
        "rss_peak_mb": rss_mb(),
        "queries": [{"sql": q, "seconds": times[q], "rows": rows[q]} for q in QUERIES],
    }
    ok = load <= TARGETS["load_s"] and all(t <= TARGETS["query_s"] for t in times.values())
    print(f"rows {args.rows:,}: Python pass over the rows {reference:.1f} s (reference)")
    print(f"first query (loads SQLite) {load:.1f} s; RSS {start_rss:.0f} -> {loaded_rss:.0f} MB")
    for query in QUERIES:
        print(f"  {times[query]:7.3f} s  {rows[query]:>9,} rows  {query}")
    print(f"peak RSS {rss_mb():.0f} MB")
    print(
        "PASS" if ok else "FAIL",
        f"(targets: load <= {TARGETS['load_s']:g} s, query <= {TARGETS['query_s']:g} s)",
    )
    if args.json:
        args.json.write_text(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
