"""Find the JSON Schemas shipped with zsync.

`schemas/` at the top of the repository is the source of truth; the wheel carries a copy in
`zsync/_schemas/` (see pyproject.toml). A source checkout or an editable install reads the
former, an installed wheel the latter.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE_DIR / "_schemas", _PACKAGE_DIR.parent / "schemas")


def schema_path(name: str) -> Path:
    """Path of `<name>.schema.json`, e.g. schema_path("zsync")."""
    for directory in _CANDIDATES:
        candidate = directory / f"{name}.schema.json"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{name}.schema.json is missing from this zsync installation")


@cache
def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return data
