"""Which parts of the JSON Schema apply at a path of the data, without validating anything.

Three callers need it: keeping plain scalars as written where the schema wants text
(as_written.py), telling whether an unset ${VAR} could still make a value valid, and
validating thousands of jobs once per distinct shape (schema_check.py). Every branch that
might apply counts (`oneOf`, `anyOf`, `if`/`then`...), so answers are unions: "a string
may be expected here" means some branch expects one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from zsync.resources import load_schema
from zsync.spec.diagnostics import Path

Schema = Mapping[str, Any]
# A set of schema nodes that apply at some path, interned as a small number. Each node is
# kept with whether it asserts (a `then`, `oneOf` branch...) or only tests (`if`, `not`).
NodeSet = int
ANY = frozenset({"string", "number", "integer", "boolean", "null", "array", "object"})

_BRANCHES = ("allOf", "anyOf", "oneOf", "then", "else")
_TESTS = ("if", "not")
# Keywords whose children this map doesn't follow: below them nothing is "free".
_UNFOLLOWED = (
    "patternProperties",
    "prefixItems",
    "contains",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
)
# What a schema node may say about a string for any non-empty string to pass it.
_FREE_KEYS = {
    "type",
    "minLength",
    "description",
    "title",
    "default",
    "examples",
    "$ref",
    "errorMessage",
}
_OPAQUE: Schema = {"$comment": "below a keyword this map doesn't follow"}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


class SchemaMap:
    """The nodes of one schema that apply at each path, with steps and answers cached."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._sets: list[tuple[tuple[Schema, bool], ...]] = []
        self._ids: dict[tuple[tuple[int, bool], ...], NodeSet] = {}
        self._properties: list[frozenset[str]] = []
        self._steps: dict[tuple[NodeSet, str | int], NodeSet] = {}
        self._types: dict[NodeSet, frozenset[str]] = {}
        self._free: dict[NodeSet, bool] = {}
        self.root = self._intern(self._expand([(schema, True)]))

    def at(self, path: Path, start: NodeSet | None = None) -> NodeSet:
        nodes = self.root if start is None else start
        for part in path:
            nodes = self.step(nodes, part)
        return nodes

    def step(self, nodes: NodeSet, part: str | int) -> NodeSet:
        """The nodes that apply to the member `part` of a value the `nodes` apply to."""
        if isinstance(part, str):
            key: str | int = part if part in self._properties[nodes] else "*"
        else:
            key = 0
        found = self._steps.get((nodes, key))
        if found is None:
            found = self._steps[(nodes, key)] = self._intern(self._children(nodes, key))
        return found

    def types(self, nodes: NodeSet) -> frozenset[str]:
        """The JSON types some asserting node allows here (every type if none says)."""
        found = self._types.get(nodes)
        if found is None:
            found = self._types[nodes] = self._compute_types(nodes)
        return found

    def is_free_string(self, nodes: NodeSet) -> bool:
        """Whether every non-empty string passes every node here: its text can't matter."""
        found = self._free.get(nodes)
        if found is None:
            found = self._free[nodes] = self._compute_free(nodes)
        return found

    # -- building --------------------------------------------------------------------------

    def _intern(self, nodes: list[tuple[Schema, bool]]) -> NodeSet:
        key = tuple((id(node), asserts) for node, asserts in nodes)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self._sets)
            self._sets.append(tuple(nodes))
            names: set[str] = set()
            for node, _ in nodes:
                properties = node.get("properties")
                if isinstance(properties, Mapping):
                    names.update(properties)
            self._properties.append(frozenset(names))
        return found

    def _expand(self, start: list[tuple[Schema, bool]]) -> list[tuple[Schema, bool]]:
        """`start` and every node reachable from it at the same path, each once."""
        seen: set[int] = set()
        out: list[tuple[Schema, bool]] = []
        todo = list(reversed(start))
        while todo:
            node, asserts = todo.pop()
            if id(node) in seen or not isinstance(node, Mapping):
                continue
            seen.add(id(node))
            out.append((node, asserts))
            ref = node.get("$ref")
            if isinstance(ref, str):
                todo.append((self._resolve(ref), asserts))
            for word in _BRANCHES:
                todo.extend((sub, asserts) for sub in _as_list(node.get(word)))
            for word in _TESTS:
                todo.extend((sub, False) for sub in _as_list(node.get(word)))
        return out

    def _children(self, nodes: NodeSet, key: str | int) -> list[tuple[Schema, bool]]:
        children: list[tuple[Schema, bool]] = []
        for node, asserts in self._sets[nodes]:
            if node is _OPAQUE or any(word in node for word in _UNFOLLOWED):
                children.append((_OPAQUE, False))
            if isinstance(key, int):
                child = node.get("items")
            elif key != "*":
                child = node.get("properties", {}).get(key, node.get("additionalProperties"))
            else:
                child = node.get("additionalProperties")
            if isinstance(child, Mapping):
                children.append((child, asserts))
        return self._expand(children)

    def _resolve(self, ref: str) -> Schema:
        if not ref.startswith("#/"):
            return _OPAQUE
        node: Any = self.schema
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        return node if isinstance(node, Mapping) else _OPAQUE

    def _compute_types(self, nodes: NodeSet) -> frozenset[str]:
        allowed: set[str] = set()
        said = False
        for node, asserts in self._sets[nodes]:
            if not asserts:
                continue
            if "type" in node:
                said = True
                allowed.update(_as_list(node["type"]))
            if "const" in node:
                said = True
                allowed.add(json_type(node["const"]))
            if "enum" in node:
                said = True
                allowed.update(json_type(v) for v in node["enum"])
        if "number" in allowed:
            allowed.add("integer")
        return frozenset(allowed) if said else ANY

    def _compute_free(self, nodes: NodeSet) -> bool:
        typed = False
        for node, _ in self._sets[nodes]:
            if node is _OPAQUE or not set(node) <= _FREE_KEYS:
                return False
            if "type" in node and node["type"] != "string":
                return False
            if node.get("minLength", 0) > 1:
                return False
            typed = typed or node.get("type") == "string"
        return typed


@cache
def spec_map() -> SchemaMap:
    """The map of the job file's schema."""
    return SchemaMap(load_schema("zsync"))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
