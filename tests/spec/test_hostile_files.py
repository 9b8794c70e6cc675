"""Hostile job files, one per way zsync used to fail on them: each must exit 2 from
`zsync validate`, `zsync plan` and `zsync run` (before any network) with a message naming
its line, and never with a traceback. And values YAML 1.1 would change stay as written."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsync.cli import cli
from zsync.spec import validate_spec
from zsync.spec.model import BulkReadExport

CONNECTION = """\
  crm:
    product: crm
    org_id: "1"
    auth: {client_id: a, client_secret: b, refresh_token: c}
"""
JOB = """\
  a:
    export: {from: crm, module: Leads}
    output: a.csv
"""


def _file(connection: str = CONNECTION, job: str = JOB, before: str = "") -> str:
    return f"{before}version: 1\nconnections:\n{connection}jobs:\n{job}"


def _bomb() -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


@dataclass
class Hostile:
    id: str
    text: str
    line: int
    message: str


HOSTILE = [
    Hostile("job-as-unset-variable", _file(job='  a: "${JOB}"\n'), 8, "expected a mapping"),
    Hostile(
        "connection-as-unset-variable",
        _file(connection='  crm: "${CRM}"\n'),
        3,
        "expected a mapping, found '${CRM}'",
    ),
    Hostile(
        "auth-as-unset-variable",
        _file(
            connection=CONNECTION.replace(
                "{client_id: a, client_secret: b, refresh_token: c}", "${AUTH}"
            )
        ),
        6,
        "expected a mapping, found '${AUTH}'",
    ),
    Hostile(
        "export-as-unset-variable",
        _file(job=JOB.replace("{from: crm, module: Leads}", '"${EXPORT}"')),
        9,
        "expected a mapping, found '${EXPORT}'",
    ),
    Hostile(
        "import-as-unset-variable",
        _file(job="  a:\n    import: ${IMPORT}\n"),
        9,
        "expected a mapping, found '${IMPORT}'",
    ),
    Hostile(
        "5000-digit-version",
        _file().replace("version: 1", "version: " + "9" * 5000),
        1,
        "is too large a number",
    ),
    Hostile(
        "5000-digit-attempts",
        _file(job=JOB + "    retry: {attempts: " + "9" * 5000 + "}\n"),
        11,
        "is too large a number",
    ),
    Hostile(
        "5000-digit-limit",
        _file(connection=CONNECTION + "    limits: {exports: " + "9" * 5000 + "}\n"),
        7,
        "is too large a number",
    ),
    Hostile(
        "duration-float-1e310",
        _file(job=JOB + "    poll: {first: 1.0e+310}\n"),
        11,
        "expected a duration",
    ),
    Hostile(
        "duration-10-to-the-310-seconds",
        _file(job=JOB + "    poll: {timeout: 1" + "0" * 310 + "s}\n"),
        11,
        "longer than zsync waits for anything",
    ),
    Hostile(
        "duration-inf",
        _file(job=JOB + "    poll: {max: .inf}\n"),
        11,
        "expected a duration",
    ),
    Hostile(
        "ratio-nan",
        _file(job=JOB + "    results: {max_zip_ratio: .nan}\n"),
        11,
        "is not a finite number",
    ),
    Hostile(
        "1000-nested-lists",
        _file(job=JOB + "    tags: " + "[" * 1000 + "]" * 1000 + "\n"),
        11,
        "nested more than 64 levels deep",
    ),
    Hostile(
        "1000-nested-mappings",
        _file(job=JOB + "    poll: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n"),
        11,
        "nested more than 64 levels deep",
    ),
    Hostile(
        "1000-nested-block-mappings",
        _file(job=JOB + "".join(f"{'  ' * (i + 2)}k{i}:\n" for i in range(1000))),
        73,  # the 64th level: reading stops there
        "nested more than 64 levels deep",
    ),
    Hostile("9x9-alias-bomb", _file(before=_bomb()), 6, "aliases here build more than"),
    Hostile("recursive-alias", _file(job=JOB + "    tags: &t [*t]\n"), 11, "recursive alias"),
    Hostile("only-a-tilde", "~\n", 1, "expected a mapping, found nothing"),
    Hostile("empty", "", 1, "the file is empty"),
    Hostile("only-a-comment", "# jobs go here\n", 1, "the file is empty"),
    Hostile("bare-scalar", "jobs\n", 1, "expected a mapping, found 'jobs'"),
    Hostile("bare-list", "- version: 1\n", 1, "expected a mapping, found a list"),
    Hostile("two-documents", _file() + "---\n" + _file(), 11, "holds one document"),
    Hostile("control-character", _file(job=JOB.replace("Leads", "Le\x07ads")), 9, "not allowed"),
    Hostile("binary-tag", _file(job=JOB.replace("Leads", "!!binary TGVhZHM=")), 9, "not allowed"),
    Hostile(
        "python-tag",
        _file(job=JOB.replace("Leads", "!!python/object/apply:os.system [true]")),
        9,
        "not allowed",
    ),
    Hostile(
        "import-of-etc-passwd",
        _file(job="  a:\n    import: {to: crm, module: Leads, file: /etc/passwd}\n"),
        9,
        "is outside the job file's directory, the output directory",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobs.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
@pytest.mark.parametrize("command", ["validate", "plan", "run"])
def test_hostile_file_exits_2_naming_its_line(tmp_path: Path, case: Hostile, command: str) -> None:
    path = _write(tmp_path, case.text)
    started = time.perf_counter()
    result = CliRunner().invoke(cli, [command, str(path)], env={"AUTH": None, "JOB": None})
    assert time.perf_counter() - started < 5
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{path}:{case.line}:" in result.output
    assert case.message in result.output


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_file_is_invalid_in_json(tmp_path: Path, case: Hostile) -> None:
    path = _write(tmp_path, case.text)
    result = CliRunner().invoke(cli, ["validate", str(path), "--output", "json"])
    assert result.exit_code == 2
    assert '"valid": false' in result.output
    assert validate_spec(path, {}).spec is None


AS_WRITTEN = [
    ("NO", "NO"),
    ("012345", "012345"),
    ("0755", "0755"),
    ("1e3", "1e3"),
    ("2024-01-01", "2024-01-01"),
    ("yes", "yes"),
    ("0x1F", "0x1F"),
    ("10:30", "10:30"),
    ("1.50", "1.50"),
    ("12345678901234567890", "12345678901234567890"),
]


@pytest.mark.parametrize(("written", "value"), AS_WRITTEN)
def test_values_stay_as_written(tmp_path: Path, written: str, value: str) -> None:
    job = (
        "  a:\n    export:\n      from: crm\n      module: Leads\n"
        f"      criteria: {{api_name: Code, comparator: equal, value: {written}}}\n"
        "    output: a.csv\n"
    )
    path = _write(tmp_path, _file(job=job))
    for command in ("validate", "plan"):
        result = CliRunner().invoke(cli, [command, str(path)])
        assert result.exit_code == 0, result.output
    spec = validate_spec(path, {}).spec
    assert spec is not None
    action = spec.jobs["a"].action
    assert isinstance(action, BulkReadExport) and action.criteria is not None
    assert action.criteria.value == value  # type: ignore[union-attr]
