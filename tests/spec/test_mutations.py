"""Property: no job file, however mangled, makes zsync raise; it is valid (exit 0) or
invalid with located diagnostics (exit 2), from validate_spec and the command line alike.

Valid job files (the shipped example, the README's, test fixtures) are mutated at random:
lines deleted, duplicated and re-indented; keys and values replaced by random scalars,
YAML 1.1's surprises, huge numbers, ${VAR}s, deep nesting and aliases; random bytes
inserted; the text truncated. A fixed seed (derandomize) keeps CI reproducible.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zsync.cli import cli
from zsync.spec import validate_spec

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = 1000
FIXTURE = """\
version: 1
connections:
  crm:
    product: crm
    org_id: "1"
    auth: &auth {client_id: a, client_secret: b, refresh_token: c}
  an:
    product: analytics
    org_id: "2"
    workspace: "3"
    auth: *auth
    limits: {exports: 2}
defaults:
  poll: {first: 1s, max: 30s, timeout: 2h}
  retry: {attempts: 3, backoff: 500ms}
  results: {max_size: 2GiB, max_zip_ratio: 100, stall_timeout: 2m}
jobs:
  leads:
    tags: [crm]
    export:
      from: crm
      module: Leads
      fields: [Email, Last_Name]
      criteria:
        group_operator: and
        group:
          - {api_name: Lead_Status, comparator: in, value: [Open, New]}
          - {api_name: Created_Time, comparator: between, value: [2024-01-01, 2024-12-31]}
    output: crm/leads.csv
  load:
    needs: [leads]
    import: {to: an, table: Leads, file: crm/leads.csv, mode: updateadd, matching_columns: [Email]}
  back:
    import: {to: crm, module: Leads, file: crm/leads.csv, operation: upsert, find_by: Email}
    output: crm/back
"""


def _readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(# yaml-language-server.*?)```", text, flags=re.S)
    assert match
    return match.group(1)


SEEDS = [(REPO / "jobs.example.yaml").read_text(encoding="utf-8"), _readme_example(), FIXTURE]

WEIRD_SCALARS = [
    "NO", "yes", "on", "~", "null", "012345", "0755", "0x1F", "0b101", "1_000", "10:30",
    "1e3", "1.0e+310", ".inf", "-.inf", ".nan", "2024-01-01", "2024-01-01T10:00:00Z",
    "9" * 5000, "9007199254740993", "-0", "1.50", "''", '""', "[]", "{}", "<<", "=",
    "${VAR}", '"${VAR}"', "${VAR:-x}", "${EMPTY}", "$${VAR}", "${BAD VAR}", '"${', "!!binary aGk=",
    "!!python/object/apply:os.system [true]", "!!int x", "!!float 1", "!custom x", "! 12",
    "&anchor x", "*anchor", "*nowhere", "|\n  block", ">-\n  folded", "'it''s'", "\"\\x41\"",
    "1" + "0" * 310 + "s", "400d", "100MB", "0", "-1", "1e400", "true", "false", "42", "3.5",
]  # fmt: skip
KEYS = [
    "version", "connections", "jobs", "defaults", "export", "import", "output", "needs", "tags",
    "from", "to", "module", "criteria", "value", "group", "auth", "poll", "retry", "results",
    "file", "import_roots", "output_dir", "limits", "<<", "1", "~", "? x", "- a", "a b",
]  # fmt: skip


def _line(draw: st.DrawFn, lines: list[str]) -> int:
    return draw(st.integers(0, max(0, len(lines) - 1)))


def delete_line(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    if lines:
        del lines[_line(draw, lines)]
    return "\n".join(lines) + "\n"


def duplicate_line(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    if lines:
        at = _line(draw, lines)
        lines.insert(at, lines[at])
    return "\n".join(lines) + "\n"


def reindent_line(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    if lines:
        at = _line(draw, lines)
        lines[at] = " " * draw(st.integers(0, 12)) + lines[at].lstrip()
    return "\n".join(lines) + "\n"


def _scalar(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            st.sampled_from(WEIRD_SCALARS),
            st.integers().map(str),
            st.floats().map(repr),
            st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=12),
        )
    )


def _value_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if re.match(r"^\s*[-\w\"'<]+.*?: ", line)]


def replace_value(draw: st.DrawFn, text: str, value: str | None = None) -> str:
    lines = text.splitlines()
    candidates = _value_lines(lines)
    if candidates:
        at = draw(st.sampled_from(candidates))
        head = lines[at].split(": ", 1)[0]
        lines[at] = f"{head}: {value if value is not None else _scalar(draw)}"
    return "\n".join(lines) + "\n"


def replace_key(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    candidates = _value_lines(lines)
    if candidates:
        at = draw(st.sampled_from(candidates))
        head, tail = lines[at].split(": ", 1)
        indent = head[: len(head) - len(head.lstrip(" -"))]
        lines[at] = f"{indent}{draw(st.sampled_from(KEYS))}: {tail}"
    return "\n".join(lines) + "\n"


def deep_nesting(draw: st.DrawFn, text: str) -> str:
    depth = draw(st.integers(1, 1500))
    opening, closing = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("[{a: ", "}]")]))
    return replace_value(draw, text, opening * depth + "x" + closing * depth)


def huge_number(draw: st.DrawFn, text: str) -> str:
    digits = draw(st.integers(16, 6000))
    number = draw(st.sampled_from(["9" * digits, "1." + "0" * 5 + "e+" + str(digits), ".inf"]))
    return replace_value(draw, text, number)


def variable(draw: st.DrawFn, text: str) -> str:
    name = draw(st.sampled_from(["VAR", "ZOHO_CLIENT_ID", "EMPTY", "A_B"]))
    return replace_value(draw, text, draw(st.sampled_from([f'"${{{name}}}"', f"${{{name}}}"])))


def aliases(draw: st.DrawFn, text: str) -> str:
    text = replace_value(draw, text, "&m " + _scalar(draw).lstrip("&*"))
    return replace_value(draw, text, draw(st.sampled_from(["*m", "[*m, *m]", "{<<: *m}"])))


def alias_fan(draw: st.DrawFn, text: str) -> str:
    """Aliases of aliases, `width` wide and `levels` deep, some past the alias budget."""
    width, levels = draw(st.integers(2, 9)), draw(st.integers(1, 6))
    lines = [f"z0: &z0 [{', '.join(['x'] * width)}]"]
    lines += [f"z{i}: &z{i} [{', '.join([f'*z{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n" + text


def insert_text(draw: st.DrawFn, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.text(max_size=8)) + text[at:]


def truncate(draw: st.DrawFn, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


MUTATIONS: list[Callable[[st.DrawFn, str], str]] = [
    delete_line,
    duplicate_line,
    reindent_line,
    replace_value,
    replace_value,
    replace_value,
    replace_key,
    deep_nesting,
    huge_number,
    variable,
    variable,
    aliases,
    alias_fan,
    insert_text,
    truncate,
]


@st.composite
def job_files(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 19)) == 0:  # now and then, bytes that aren't UTF-8 at all
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    return data


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutations") / "jobs.yaml"


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,  # measured below instead: a slow example fails, it isn't retried
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=job_files())
def test_mutated_job_files_exit_0_or_2(spec_path: Path, data: bytes) -> None:
    spec_path.write_bytes(data)
    started = time.process_time()  # CPU time: a busy CI machine must not fail it
    result = validate_spec(spec_path, {"A_B": "1"})
    assert result.ok == (result.spec is not None)
    assert result.ok or any(d.severity == "error" for d in result.diagnostics)
    assert all(d.line >= 1 and d.column >= 1 for d in result.diagnostics)

    runner = CliRunner()
    validated = runner.invoke(cli, ["validate", str(spec_path)])
    _assert_clean_exit(validated, (0, 2))
    planned = runner.invoke(cli, ["plan", str(spec_path)])
    _assert_clean_exit(planned, (0, 2))
    assert (validated.exit_code == 0) == (planned.exit_code == 0)
    if not validate_spec(spec_path, {}, for_run=True).ok:  # run stops before any network
        _assert_clean_exit(runner.invoke(cli, ["run", str(spec_path)]), (2,))
    assert time.process_time() - started < 5


def _assert_clean_exit(result: object, codes: tuple[int, ...]) -> None:
    exit_code = getattr(result, "exit_code", None)
    exception = getattr(result, "exception", None)
    output = getattr(result, "output", "")
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert exit_code in codes, output
    assert "Traceback" not in output
