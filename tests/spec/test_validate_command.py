"""`zsync validate` as the command line runs it: exit codes and output."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zsync.cli import cli


def test_ctrl_c_exits_130(write_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("zsync.commands.validate.validate_spec", interrupted)
    result = CliRunner().invoke(cli, ["validate", str(write_spec("version: 1\n"))])
    assert result.exit_code == 130
    assert "interrupted" in result.output


@pytest.mark.parametrize("text", ["~\n", "", "hello\n", "- 1\n", "42\n"])
def test_a_file_that_is_no_job_file_is_invalid_in_json_too(write_spec, text: str) -> None:
    path = write_spec(text)
    result = CliRunner().invoke(cli, ["validate", str(path), "--output", "json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["valid"] is False
    assert report["errors"] == 1
    assert report["diagnostics"][0]["line"] == 1
