"""The JSON Schema itself: valid, documented, and agreeing with the examples we ship."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from zsync.resources import load_schema, schema_path
from zsync.spec import validate_spec

REPO = Path(__file__).resolve().parents[2]


def test_schema_is_valid_2020_12() -> None:
    schema = load_schema("zsync")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_schema_found_is_the_repository_source_of_truth() -> None:
    assert schema_path("zsync").read_bytes() == (REPO / "schemas/zsync.schema.json").read_bytes()


def _properties(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}.{name}", sub
        for key, value in node.items():
            if key != "if":  # conditions name properties, they don't define them
                yield from _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{where}[{index}]")


def _documented(sub: Any, defs: dict[str, Any]) -> bool:
    if not isinstance(sub, dict):
        return False
    if "description" in sub or ("errorMessage" in sub and sub.get("not") == {}):
        return True
    ref = sub.get("$ref", "")
    return bool(ref) and "description" in defs[ref.rsplit("/", 1)[-1]]


def test_every_property_has_a_description() -> None:
    schema = load_schema("zsync")
    undocumented = [
        where for where, sub in _properties(schema) if not _documented(sub, schema["$defs"])
    ]
    assert undocumented == []


def test_objects_are_strict() -> None:
    """Every object with properties refuses unknown keys, so typos can't hide."""
    schema = load_schema("zsync")
    loose = [
        name
        for name, sub in schema["$defs"].items()
        if isinstance(sub, dict)
        and sub.get("type") == "object"
        and "properties" in sub
        and sub.get("additionalProperties") is not False
    ]
    assert loose == []


def test_example_job_file_is_valid() -> None:
    result = validate_spec(REPO / "jobs.example.yaml", {})
    assert result.errors == []
    assert result.spec is not None
    products = {c.product for c in result.spec.connections.values()}
    assert products == {"crm", "bigin", "creator", "analytics"}
    assert {j.direction for j in result.spec.jobs.values()} == {"export", "import"}


def _readme_specs() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if re.search(r"^version: 1$", b, flags=re.M)]


def test_readme_has_examples() -> None:
    assert _readme_specs()


@pytest.mark.parametrize("text", _readme_specs())
def test_readme_examples_are_valid(text: str, tmp_path: Path) -> None:
    path = tmp_path / "jobs.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "exports/crm").mkdir(parents=True)
    result = validate_spec(path, {})
    assert result.errors == [], [d.render() for d in result.errors]
    assert yaml.safe_load(text)["version"] == 1
