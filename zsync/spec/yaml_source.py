"""Load YAML safely into plain data, remembering the line and column of every key and value.

PyYAML's constructors forget positions and silently keep the last of two equal keys; a job
file must do neither. So this module composes the node tree with the safe loader and builds
the data itself: duplicate keys become errors, and every path gets its position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from zsync.spec.diagnostics import Diagnostic, Path, Severity, format_path

MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAX_DEPTH = 64
PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class Source:
    """A loaded YAML document: its data and where each part of it stands in the file."""

    filename: str
    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Where `path` is: its key if asked and known, else its value, else its nearest parent."""
        if key and path in self.keys:
            return self.keys[path]
        probe = path
        while probe:
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Position(1, 1))

    def diagnostic(
        self, path: Path, message: str, *, severity: Severity = "error", key: bool = False
    ) -> Diagnostic:
        where = self.position(path, key=key)
        return Diagnostic(
            self.filename, where.line, where.column, format_path(path), severity, message
        )


def load_yaml(text: str, filename: str) -> tuple[Source, list[Diagnostic]]:
    """Parse `text`; on a syntax error the Source holds no data and the error says where."""
    source = Source(filename, None)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        message = f"invalid YAML: {problem or exc}"
        return source, [Diagnostic(filename, line, column, "", "error", message)]
    except yaml.YAMLError as exc:  # reader errors: bad bytes, control characters
        return source, [Diagnostic(filename, 1, 1, "", "error", f"invalid YAML: {exc}")]
    if root is None:
        return source, [Diagnostic(filename, 1, 1, "", "error", "the file is empty")]
    builder = _Builder(source)
    source.data = builder.build(root, (), 0)
    return source, builder.diagnostics


class _Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self.constructor = SafeConstructor()

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.source.values.setdefault(path, _position(node))
        if depth > MAX_DEPTH:
            self._error(path, "nested too deeply (a recursive alias?)")
            return None
        if isinstance(node, MappingNode | SequenceNode) and node.tag not in PLAIN_TAGS:
            # The safe loader refuses such tags only when constructing, which we don't do.
            self._error(path, f"invalid YAML: tag {node.tag!r} is not allowed in a job file", node)
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        merged: list[MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.extend(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, ScalarNode):
                self._error(path, "a key must be a plain name, not a list or mapping", key_node)
                continue
            # Keys are names: keep their text as written (`on:` stays "on", `1:` stays "1").
            key = str(key_node.value)
            if key in first_seen:
                self._error(
                    (*path, key),
                    f"duplicate key '{key}' (first at line {first_seen[key].line}); "
                    "YAML would silently keep only the last one",
                    key_node,
                )
                continue
            first_seen[key] = _position(key_node)
            self.source.keys[(*path, key)] = first_seen[key]
            result[key] = self.build(value_node, (*path, key), depth + 1)
        # `<<: *defaults` fills in keys the mapping doesn't set itself, as YAML specifies.
        for source_node in merged:
            extra = self._mapping(source_node, path, depth + 1)
            for key, value in extra.items():
                result.setdefault(key, value)
        return result

    def _merge_sources(self, node: Node, path: Path) -> list[MappingNode]:
        if isinstance(node, MappingNode):
            return [node]
        if isinstance(node, SequenceNode) and all(isinstance(n, MappingNode) for n in node.value):
            return list(node.value)
        self._error(path, "'<<' merges only a mapping or a list of mappings", node)
        return []

    def _scalar(self, node: Node) -> Any:
        if node.tag == TIMESTAMP_TAG:
            # An unquoted 2024-01-31 is meant as text in a job file (criteria values, dates
            # handed to Zoho), not a Python date that then fails every string check.
            return str(node.value)
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.diagnostics.append(self.source.diagnostic((), f"invalid YAML value: {exc}"))
            return None

    def _error(self, path: Path, message: str, node: Node | None = None) -> None:
        where = _position(node) if node is not None else self.source.position(path)
        self.diagnostics.append(
            Diagnostic(
                self.source.filename, where.line, where.column, format_path(path), "error", message
            )
        )


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)
