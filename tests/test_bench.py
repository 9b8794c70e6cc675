"""The benchmark suite runs: every scenario at a tiny size, so none can rot unnoticed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_scenario_runs_at_a_tiny_size(tmp_path) -> None:
    missing = [tool for tool in ("curl", "unzip", "split") if shutil.which(tool) is None]
    if missing:  # the data-path scenarios' references: system tools, not Python packages
        pytest.skip(f"the bench's references need {', '.join(missing)} on PATH")
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "suite.py"), "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["crashed"] == []
    scenarios = {f["scenario"] for f in result["figures"]}
    expected = {p.stem for p in (ROOT / "bench" / "scenarios").glob("[!_]*.py")}
    assert scenarios == expected, "every scenario reports at least one figure"
    for figure in result["figures"]:
        assert figure["value"] >= 0, figure
