"""`zsync init`: the starter job file validates and runs against the emulator as written."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner, Result

from zsync.cli import cli
from zsync.resources import load_schema
from zsync.starter import FRAGMENTS, PRODUCTS, commented, starter_text

REPO = Path(__file__).resolve().parents[2]
# Where each product's export lands, relative to the starter's output_dir.
OUTPUTS = {
    "crm": "crm/leads.csv",
    "bigin": "bigin/contacts.csv",
    "creator": "creator/orders.csv",
    "analytics": "analytics/sales.csv",
}


@pytest.fixture(autouse=True)
def no_zoho_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As on a new user's machine: no ZOHO_* set, so every ${VAR} is unset."""
    for name in [name for name in os.environ if name.startswith("ZOHO_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def zsync(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def validate_cleanly(path: Path) -> None:
    done = zsync("validate", str(path))
    assert done.exit_code == 0, done.output
    assert ": error:" not in done.output
    assert "0 errors" in done.output


def run_on_emulator(path: Path, state: Path) -> None:
    done = zsync("run", str(path), "--emulator", "--state-dir", str(state))
    assert done.exit_code == 0, done.output
    assert "run succeeded" in done.output


@pytest.mark.parametrize("products", [(p,) for p in PRODUCTS] + [PRODUCTS], ids=[*PRODUCTS, "all"])
def test_starter_validates_and_runs_as_written(tmp_path: Path, products: tuple[str, ...]) -> None:
    done = zsync("init", *products)
    assert done.exit_code == 0, done.output
    jobs = tmp_path / "jobs.yaml"
    assert "wrote jobs.yaml" in done.output
    assert "zsync run jobs.yaml --emulator" in done.output

    validate_cleanly(jobs)
    run_on_emulator(jobs, tmp_path / "state")
    for product in products:
        exported = tmp_path / "exports" / OUTPUTS[product]
        assert exported.is_file(), product
        assert exported.read_text().count("\n") > 1, product  # a header and some rows
    assert sorted(p.relative_to(tmp_path / "exports").parts[0] for p in _files(tmp_path)) == sorted(
        products
    )


def _files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "exports").rglob("*") if p.is_file()]


def test_the_commented_out_imports_work_once_uncommented(tmp_path: Path) -> None:
    text = starter_text(PRODUCTS, file_name="jobs.yaml")
    for fragment in FRAGMENTS.values():
        for block in (fragment.import_connection, fragment.import_job):
            if block:
                assert commented(block) in text
                text = text.replace(commented(block), block)
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(text, encoding="utf-8")

    validate_cleanly(jobs)
    run_on_emulator(jobs, tmp_path / "state")
    assert (tmp_path / "exports/crm/leads_back.results.csv").is_file()


def test_default_is_crm_alone(tmp_path: Path) -> None:
    assert zsync("init").exit_code == 0
    text = (tmp_path / "jobs.yaml").read_text()
    assert "product: crm" in text
    assert not any(f"product: {p}" in text for p in PRODUCTS if p != "crm")


def test_modeline_is_the_schemas_public_address(tmp_path: Path) -> None:
    assert zsync("init", "crm", "analytics").exit_code == 0
    first = (tmp_path / "jobs.yaml").read_text().splitlines()[0]
    schema_id = load_schema("zsync")["$id"]
    assert schema_id.startswith("https://")
    assert first == f"# yaml-language-server: $schema={schema_id}"


def test_the_repository_example_uses_the_same_modeline() -> None:
    first = (REPO / "jobs.example.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={load_schema('zsync')['$id']}"


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("mine\n")
    done = zsync("init", "bigin")
    assert done.exit_code == 2
    assert "jobs.yaml exists" in done.output
    assert "--force" in done.output
    assert jobs.read_text() == "mine\n"


def test_force_overwrites(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text("mine\n")
    done = zsync("init", "bigin", "--force")
    assert done.exit_code == 0, done.output
    assert "product: bigin" in jobs.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["jobs.yaml"]  # no temporary file left


def test_output_file_names_the_file_and_its_commands(tmp_path: Path) -> None:
    done = zsync("init", "creator", "--output-file", "zoho/my jobs.yaml")
    assert done.exit_code == 0, done.output
    written = tmp_path / "zoho/my jobs.yaml"
    assert "zsync run 'zoho/my jobs.yaml' --emulator" in written.read_text()
    assert "zsync run 'zoho/my jobs.yaml' --emulator" in done.output
    validate_cleanly(written)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "jobs.yaml").mkdir()
    done = zsync("init", "--force")
    assert done.exit_code == 2
    assert "is a directory" in done.output


@pytest.mark.parametrize("args", [("desk",), ("crm", "CRM")])
def test_unknown_product_is_a_usage_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = zsync("init", *args)
    assert done.exit_code == 2
    assert "is not one of" in done.output
    assert not (tmp_path / "jobs.yaml").exists()


def test_example_writes_the_repository_example(tmp_path: Path) -> None:
    done = zsync("init", "--example")
    assert done.exit_code == 0, done.output
    written = tmp_path / "jobs.example.yaml"
    assert written.read_bytes() == (REPO / "jobs.example.yaml").read_bytes()
    validate_cleanly(written)


def test_example_takes_no_products(tmp_path: Path) -> None:
    done = zsync("init", "--example", "crm")
    assert done.exit_code == 2
    assert "--example" in done.output
    assert list(tmp_path.iterdir()) == []


def test_the_wheel_carries_the_example_where_resources_looks() -> None:
    build = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    included = build["targets"]["wheel"]["force-include"]
    assert included["jobs.example.yaml"] == "zsync/_examples/jobs.example.yaml"


def test_an_installed_zsync_finds_its_example_in_the_package(tmp_path: Path) -> None:
    """Laid out as the wheel installs it (no repository around it), resources.py finds the
    package's copy, the same way it finds the schema."""
    package = tmp_path / "site-packages/zsync"
    shutil.copytree(REPO / "schemas", package / "_schemas")
    (package / "_examples").mkdir()
    shutil.copy(REPO / "jobs.example.yaml", package / "_examples")
    resources = _load_copy(REPO / "zsync/resources.py", package / "resources.py")

    assert resources.example_path() == package / "_examples/jobs.example.yaml"
    assert resources.schema_path("zsync") == package / "_schemas/zsync.schema.json"


def test_a_missing_example_says_so(tmp_path: Path) -> None:
    resources = _load_copy(REPO / "zsync/resources.py", tmp_path / "lonely/zsync/resources.py")
    with pytest.raises(FileNotFoundError, match=r"jobs\.example\.yaml is missing"):
        resources.example_path()


def _load_copy(source: Path, destination: Path) -> ModuleType:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, destination)
    spec = importlib.util.spec_from_file_location("installed_zsync_resources", destination)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop(spec.name, None)
    spec.loader.exec_module(module)
    return module


def test_init_loads_no_network_stack(tmp_path: Path) -> None:
    """Like --help and validate (tests/test_start.py): writing a file needs no aiohttp."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "zsync", "init", *PRODUCTS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "zsync.commands.init" in modules
    forbidden = ("aiohttp", "zsync.emulator", "asyncio")
    loaded = sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))
    assert loaded == []
