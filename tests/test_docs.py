"""docs/job-file.md is generated from the schema and kept in step with it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zsync import docs_gen

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "job-file.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_committed_doc_matches_the_schema(doc: str) -> None:
    fresh = docs_gen.render(docs_gen.load())
    assert doc == fresh, f"docs/job-file.md is stale: run `{docs_gen.COMMAND}` and commit it"


def test_every_property_key_is_documented(doc: str) -> None:
    rows = set(re.findall(r"^\| `([^`]+)` \|", doc, flags=re.M))
    missing = sorted(docs_gen.property_keys(docs_gen.load()) - rows)
    assert missing == [], f"keys in the schema but in no table of docs/job-file.md: {missing}"


def test_every_object_of_the_schema_has_a_section(doc: str) -> None:
    schema = docs_gen.load()
    found, _ = docs_gen.sections(schema)
    assert set(schema["$defs"]) <= {s.key for s in found}
    for section in found:
        assert f"\n## {docs_gen.heading(section)}\n" in doc


def test_links_point_at_headings(doc: str) -> None:
    anchors = {docs_gen.slug(h) for h in re.findall(r"^## (.+)$", doc, flags=re.M)}
    targets = set(re.findall(r"\]\(#([^)]+)\)", doc))
    assert targets - anchors == set()


def test_defaults_in_words_agree_with_default_keys() -> None:
    # Where the schema gives both, the column shows `default`; the words must not say otherwise.
    def walk(node: object) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if isinstance(node, dict):
            if "default" in node and "Default" in node.get("description", ""):
                words = docs_gen._DEFAULT_IN_TEXT.search(node["description"])
                assert words, node["description"]
                found.append((str(node["default"]).lower(), words.group(1).lower()))
            for value in node.values():
                found += walk(value)
        elif isinstance(node, list):
            for value in node:
                found += walk(value)
        return found

    pairs = walk(docs_gen.load())
    assert pairs
    assert [p for p in pairs if p[0] != p[1]] == []


def test_conditional_requirements_are_stated(doc: str) -> None:
    assert "When `product` is `analytics`: `org_id` and `workspace` are required" in doc
    assert "When `mode` is `updateadd`: `matching_columns` is required." in doc
    assert "When `export` is present: `output` is required." in doc


def test_check_flags_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "job-file.md"
    stale.write_text("old\n", encoding="utf-8")
    assert docs_gen.main(["--check", "--output", str(stale)]) == 1
    assert docs_gen.COMMAND in capsys.readouterr().err
    assert docs_gen.main(["--output", str(stale)]) == 0
    assert docs_gen.main(["--check", "--output", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == docs_gen.render(docs_gen.load())


def test_cli_start_does_not_load_the_generator() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "zsync", "--help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "zsync.cli" in done.stderr  # the report is read right
    assert "zsync.docs_gen" not in done.stderr


def test_readme_links_the_doc_and_says_how_to_regenerate() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "](docs/job-file.md)" in readme
    assert docs_gen.COMMAND in readme
