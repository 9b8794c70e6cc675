"""Find the files shipped with zsync beside its code: the JSON Schemas and the example job file.

`schemas/` and `jobs.example.yaml` at the top of the repository are the source of truth; the
wheel carries copies in `zsync/_schemas/` and `zsync/_examples/` (see pyproject.toml). A
source checkout or an editable install reads the former, an installed wheel the latter.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parent / "schemas")
_EXAMPLE_CANDIDATES = (_PACKAGE_DIR / "_examples", _PACKAGE_DIR.parent)
EXAMPLE_NAME = "jobs.example.yaml"


def schema_path(name: str) -> Path:
    """Path of `<name>.schema.json`, e.g. schema_path("zsync")."""
    for directory in _CANDIDATES:
        candidate = directory / f"{name}.schema.json"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name}.schema.json is missing from this zsync installation")


def example_path() -> Path:
    """Path of the example job file (jobs.example.yaml), every product in one file."""
    for directory in _EXAMPLE_CANDIDATES:
        candidate = directory / EXAMPLE_NAME
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{EXAMPLE_NAME} is missing from this zsync installation")


@cache
def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return data
