"""Plain scalars keep the text written in the file wherever the schema expects a string.

YAML 1.1 reads an unquoted `NO` as false, `012345` as 5349 (octal), `0755` as 493, `1.50` as
1.5 and `10:30` as 630. In a job file those are criteria values, ids and names, and Zoho must
receive them as written. The rule, for a scalar YAML read as a boolean or a number:

- where the schema allows a string but not what YAML read, the value is the text as written;
- where it allows both (a criteria `value`, a duration, a size), YAML's reading stands only
  if JSON writes that value the same way (`true`, `42`, `1.5`); otherwise the text;
- where no string is allowed (`enabled: yes`, `attempts: 3`), YAML's reading stands, but a
  whole number past 2^53, inf or nan is refused there: no job file means such a number.

Nulls (`~`, an empty value) stay null everywhere.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from zsync.spec.diagnostics import Diagnostic, Path
from zsync.spec.schema_map import SchemaMap, json_type, spec_map
from zsync.spec.yaml_source import MAX_SAFE_INTEGER, Source

_SHOWN = 24  # characters of a refused number quoted in its message


class Written(NamedTuple):
    """Problems found, and the paths of numbers refused (their schema errors go unsaid)."""

    diagnostics: list[Diagnostic]
    refused: set[Path]


def keep_as_written(source: Source, schema: SchemaMap | None = None) -> Written:
    """Put back the text of plain scalars in `source.data` where a string is expected."""
    schema = schema or spec_map()
    diagnostics: list[Diagnostic] = []
    refused: set[Path] = set()
    for path, text in source.plain.items():
        if not path:
            continue  # the whole file as one scalar: load_yaml has refused it
        parent = _parent(source.data, path)
        if parent is None:
            continue
        key = path[-1]
        value = parent[key]  # type: ignore[index]
        allowed = schema.types(schema.at(path))
        why = source.unusable.get(path)
        if "string" in allowed:
            if why is not None or not _fits(value, allowed) or json.dumps(value) != text:
                parent[key] = text  # type: ignore[index]
        elif why is not None:
            refused.add(path)
            diagnostics.append(source.diagnostic(path, _refusal(text, why)))
    return Written(diagnostics, refused)


def _parent(data: Any, path: Path) -> dict[str, Any] | list[Any] | None:
    """The mapping or list holding `path`'s value, if it holds a boolean or a number."""
    node = data
    for part in path[:-1]:
        node = _member(node, part)
        if node is None:
            return None
    value = _member(node, path[-1])
    if isinstance(value, bool | int | float | str):
        return node
    return None


def _member(node: Any, part: str | int) -> Any:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def _fits(value: Any, allowed: frozenset[str]) -> bool:
    kind = json_type(value)
    if kind == "number" and value == int(value):
        return "number" in allowed or "integer" in allowed
    return kind in allowed


def _refusal(text: str, why: str) -> str:
    shown = text if len(text) <= _SHOWN else f"{text[:_SHOWN]}… ({len(text)} characters)"
    if why == "too large":
        return (
            f"{shown} is too large a number: zsync reads whole numbers up to "
            f"{MAX_SAFE_INTEGER} (2^53)"
        )
    return f"{shown} is {why}: expected a number zsync can use"
