"""`zsync run --junit FILE`: the run as a JUnit XML report, for CI test-report viewers.

One <testsuite> per run, one <testcase> per job: classname `JOBFILE.CONNECTION` (viewers group
by its dots: the job file, then the connection), name the job's, time its duration. A failed
or timed-out job carries <failure type=ERROR_CLASS message=...> with Zoho's code in its text;
a bug in zsync is an <error>; a skipped or cancelled job carries <skipped message=REASON/>.
Built from the manifest, which holds no secret.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from zsync.reports.timing import seconds_between
from zsync.reports.verdicts import verdict
from zsync.shared_files import replace_whole


def render(manifest: dict[str, Any], manifest_file: Path | None = None) -> bytes:
    spec_name = Path(manifest.get("spec", {}).get("path") or "jobs").name
    suite_name = Path(spec_name).stem or "jobs"
    jobs: dict[str, dict[str, Any]] = manifest.get("jobs") or {}
    cases = []
    kinds: Counter[str] = Counter()
    for name, job in jobs.items():
        case = ET.Element(
            "testcase",
            classname=f"{suite_name}.{job.get('connection') or job.get('product') or 'zoho'}",
            name=name,
            time=_seconds(seconds_between(job.get("started_at"), job.get("ended_at"))),
        )
        said = verdict(job)
        kinds[said.kind] += 1
        if said.kind in ("failure", "error"):
            element = ET.SubElement(case, said.kind, type=said.type, message=said.message)
            code = f" {said.code}" if said.code else ""
            element.text = f"{job.get('status')}: {said.type} error{code}: {said.message}"
        elif said.kind == "skipped":
            ET.SubElement(case, "skipped", message=said.message)
        cases.append(case)
    counts = {
        "tests": str(len(jobs)),
        "failures": str(kinds["failure"]),
        "errors": str(kinds["error"]),
        "skipped": str(kinds["skipped"]),
        "time": _seconds(seconds_between(manifest.get("started_at"), manifest.get("ended_at"))),
    }
    root = ET.Element("testsuites", {"name": "zsync run", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite_name,
            "id": str(manifest.get("run_id") or ""),
            "timestamp": str(manifest.get("started_at") or ""),
            **counts,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in (
        ("run_id", manifest.get("run_id")),
        ("outcome", manifest.get("outcome")),
        ("exit_code", manifest.get("exit_code")),
        ("job_file", manifest.get("spec", {}).get("path")),
        ("emulator", manifest.get("emulator")),
        ("manifest", manifest_file),
    ):
        if value is not None:
            ET.SubElement(properties, "property", name=key, value=str(value))
    suite.extend(cases)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write(path: Path, manifest: dict[str, Any], manifest_file: Path | None = None) -> None:
    """Write the report atomically: a reader (or a CI step after a killed run) sees the old
    file or the whole new one, never half of it."""
    # 0644: CI uploads it as a report, no one else writes it.
    replace_whole(path, render(manifest, manifest_file), 0o644)


def _seconds(value: float) -> str:
    return f"{value:.3f}"
