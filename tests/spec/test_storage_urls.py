"""output_dir, outputs and import files in object storage: what validation can tell without
reaching the store (spec/storage_checks.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from zsync.spec import validate_spec

SPEC = """\
version: 1
connections:
  an: {product: analytics, org_id: "1", workspace: "2", auth: {client_id: a, client_secret: b, refresh_token: c}}
defaults:
  output_dir: OUTPUT_DIR
MORE
jobs:
  sales:
    export: {from: an, sql: "SELECT 1 FROM T"}
    output: OUTPUT
  load:
    needs: [sales]
    import: {to: an, table: T, file: "FILE"}
"""  # noqa: E501


def check(
    tmp_path: Path,
    *,
    output_dir: str = "s3://bucket/exports",
    output: str = "sales.csv",
    file: str = "sales.csv",
    more: str = "",
):
    text = (
        SPEC.replace("OUTPUT_DIR", output_dir)
        .replace("OUTPUT", output)
        .replace("FILE", file)
        .replace("MORE", textwrap.indent(more, "  "))
    )
    path = tmp_path / "jobs.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_spec(path, {})


def messages(result) -> list[tuple[str, str]]:
    return [(d.path, d.message) for d in result.diagnostics]


def test_an_s3_output_dir_with_relative_outputs_and_imports_is_valid(tmp_path) -> None:
    pytest.importorskip("s3fs")
    result = check(tmp_path)
    assert result.ok, messages(result)
    assert result.spec.output_url == "s3://bucket/exports"


def test_urls_below_the_output_dir_mean_the_same_relative_paths(tmp_path) -> None:
    pytest.importorskip("s3fs")
    url = "s3://bucket/exports/sales.csv"
    result = check(tmp_path, output=url, file=url)
    assert result.ok, messages(result)
    assert result.spec.jobs["sales"].output == "sales.csv"
    assert result.spec.jobs["load"].input_file == "sales.csv"


def test_an_output_url_elsewhere_is_refused(tmp_path) -> None:
    pytest.importorskip("s3fs")
    result = check(tmp_path, output="s3://other/sales.csv")
    assert [e.path for e in result.errors] == ["jobs.sales.output"]
    assert "isn't below the output directory" in result.errors[0].message


def test_an_import_url_outside_the_output_dir_needs_an_import_root(tmp_path) -> None:
    pytest.importorskip("s3fs")
    file = "s3://other/in/leads.csv"
    refused = check(tmp_path, file=file)
    assert [e.path for e in refused.errors] == ["jobs.load.import.file"]
    assert "add it to defaults.import_roots" in refused.errors[0].message
    allowed = check(tmp_path, file=file, more='import_roots: ["s3://other/in"]\n')
    assert allowed.ok, messages(allowed)


@pytest.mark.parametrize("output_dir", ["s3://bucket/../x", "s3:///exports"])
def test_a_url_without_a_bucket_or_with_dotdot_is_refused(tmp_path, output_dir) -> None:
    result = check(tmp_path, output_dir=output_dir)
    assert "defaults.output_dir" in [e.path for e in result.errors]


def test_a_missing_filesystem_package_is_a_located_error_naming_the_extra(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr("zsync.locations.importlib.util.find_spec", lambda name: None)
    result = check(tmp_path, output_dir="gs://bucket/exports")
    (error,) = result.errors
    assert (error.path, error.line) == ("defaults.output_dir", 5)
    assert "pip install 'zoho-zsync[gcs]'" in error.message


def test_storage_options_without_a_url_are_a_warning(tmp_path) -> None:
    result = check(tmp_path, output_dir="exports", more="storage_options: {anon: true}\n")
    assert result.ok
    assert [w.path for w in result.warnings] == ["defaults.storage_options"]


def test_credentials_written_in_storage_options_are_masked(tmp_path) -> None:
    from zsync import redact

    more = (
        "storage_options:\n"
        "  key: AKIAWRITTENINFILE\n"
        "  endpoint_url: http://minio.local:9000\n"
        "  client_kwargs: {aws_secret_access_key: sekrit-value}\n"
    )
    result = check(tmp_path, more=more)
    with redact.scope():
        redact.add_auth(result.spec)
        shown = redact.text("AKIAWRITTENINFILE sekrit-value http://minio.local:9000")
    assert shown == "*** *** http://minio.local:9000"
