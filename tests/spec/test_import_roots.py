"""Imports read only files inside the job file's directory, the output directory, or a
directory the job file names in defaults.import_roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from zsync.spec import validate_spec

HEADER = """\
version: 1
connections:
  an: {product: analytics, org_id: "1", workspace: "2", auth: {client_id: a, client_secret: b, refresh_token: c}}
DEFAULTSjobs:
  load:
    import: {to: an, table: T, file: "FILE"}
"""  # noqa: E501


def _check(tmp_path: Path, file: str, defaults: str = ""):
    spec = tmp_path / "repo" / "jobs.yaml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(HEADER.replace("DEFAULTS", defaults).replace("FILE", file), encoding="utf-8")
    return validate_spec(spec, {})


@pytest.mark.parametrize(
    "file",
    ["/etc/passwd", "../../outside.csv", "../../repo-not/x.csv", "a/../../../outside.csv"],
)
def test_a_file_outside_every_allowed_directory_is_an_error(tmp_path: Path, file: str) -> None:
    result = _check(tmp_path, file)
    assert not result.ok
    (error,) = result.errors
    assert (error.line, error.path) == (6, "jobs.load.import.file")
    assert "is outside the job file's directory, the output directory:" in error.message
    assert "add it to defaults.import_roots" in error.message


@pytest.mark.parametrize("file", ["in/x.csv", "../x.csv", "../exports/x.csv"])
def test_files_in_the_job_directory_or_the_output_directory_are_fine(tmp_path, file) -> None:
    result = _check(tmp_path, file)
    assert result.ok, [d.render() for d in result.diagnostics]


def test_a_symbolic_link_is_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("x", encoding="utf-8")
    (tmp_path / "repo" / "exports").mkdir(parents=True)
    (tmp_path / "repo" / "exports" / "link.csv").symlink_to(outside)
    result = _check(tmp_path, "link.csv")
    assert [e.path for e in result.errors] == ["jobs.load.import.file"]
    assert str(outside) in result.errors[0].message


def test_import_roots_allow_more_directories(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    defaults = f'defaults:\n  import_roots: ["../shared", "{tmp_path / "abs"}"]\n'
    assert _check(tmp_path, str(shared / "x.csv"), defaults).ok
    assert _check(tmp_path, "../../shared/x.csv", defaults).ok
    assert _check(tmp_path, str(tmp_path / "abs" / "deep" / "x.csv"), defaults).ok
    refused = _check(tmp_path, "/etc/passwd", defaults)
    assert "the output directory and defaults.import_roots:" in refused.errors[0].message
