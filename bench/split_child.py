"""zsync's import splitter on one file, in this process, timed.

    python bench/split_child.py FILE MAX_BYTES

Runs `plan_parts` (what an import calls to cut its file) and prints one JSON line: the
seconds it took, the header's length, the file's sha256 as it computed it, and every part
as [start, end, rows, size]. The parent reads this process's peak RSS from wait4(2).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from zsync.sinks.split import plan_parts


def main() -> None:
    path, max_bytes = Path(sys.argv[1]), int(sys.argv[2])
    started = time.perf_counter()
    layout = plan_parts(path, max_bytes)
    seconds = time.perf_counter() - started
    parts = [[p.start, p.end, p.rows, p.size] for p in layout.parts]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "header": len(layout.header),
                "sha256": layout.sha256,
                "parts": parts,
            }
        )
    )


if __name__ == "__main__":
    main()
