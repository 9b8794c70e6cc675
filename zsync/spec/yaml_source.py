"""Load YAML safely into plain data, remembering the line and column of every key and value.

PyYAML's constructors forget positions, silently keep the last of two equal keys and expand
aliases without limit; its composer recurses once per level of nesting. A job file is read
by people and written by pull requests, so this module reads YAML's event stream (libyaml's
parser where PyYAML has it) and builds the data itself: duplicate keys are errors, every
path gets its position, nesting is refused past MAX_DEPTH before anything recurses deeper,
and aliases may build at most MAX_ALIAS_NODES nodes (a "billion laughs" file is refused).

Plain scalars that YAML 1.1 reads as something other than text (`NO`, `012345`, `1.50`)
keep their text in `Source.plain`, so the schema step can keep them as written where a
string is expected (see zsync/spec/as_written.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    Event,
    MappingEndEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from zsync.spec.diagnostics import Diagnostic, Path, Severity, format_path

MAX_DEPTH = 64
# Nodes built through aliases, all aliases together: a file sharing its `auth` between a few
# connections, or `<<: *defaults` in every one of thousands of jobs, stays far below it.
MAX_ALIAS_NODES = 200_000
# The largest whole number a JSON tool (and Zoho) reads exactly; past it a number is refused.
MAX_SAFE_INTEGER = 2**53
# Past this many characters an integer isn't even converted (Python refuses 4,300 digits).
_MAX_INT_TEXT = 100

_TAG = "tag:yaml.org,2002:"
STR_TAG, NULL_TAG, BOOL_TAG = _TAG + "str", _TAG + "null", _TAG + "bool"
INT_TAG, FLOAT_TAG, MERGE_TAG = _TAG + "int", _TAG + "float", _TAG + "merge"
# An unquoted 2024-01-31 (or `=`) is meant as text in a job file, not a Python date.
TEXT_TAGS = {STR_TAG, _TAG + "timestamp", _TAG + "value", MERGE_TAG}
PLAIN_TAGS = {None, "!", _TAG + "map", _TAG + "seq"}

_T = TypeVar("_T")
# The first characters of plain scalars that YAML 1.1 may read as something other than text.
_RESOLVED_FIRST = frozenset(c for c in Resolver.yaml_implicit_resolvers if c)


class Position(NamedTuple):
    line: int
    column: int


class Mark(Protocol):
    """Where the parser saw something, counted from 0 (PyYAML's and libyaml's marks)."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


@dataclass
class Source:
    """A loaded YAML document: its data and where each part of it stands in the file."""

    filename: str
    data: Any
    # The parser's own marks, made into Positions only when asked: a 10,000-job file has
    # 300,000 of them.
    values: dict[Path, Mark | None] = field(default_factory=dict)
    keys: dict[Path, Mark | None] = field(default_factory=dict)
    # Scalars YAML read as a boolean or a number: their text as written in the file.
    plain: dict[Path, str] = field(default_factory=dict)
    # Numbers no job file can use (past MAX_SAFE_INTEGER, inf, nan): why. Their data is text.
    unusable: dict[Path, str] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Where `path` is: its key if asked and known, else its value, else its nearest parent."""
        if key and path in self.keys:
            return _position(self.keys[path])
        probe = path
        while probe:
            if probe in self.values:
                return _position(self.values[probe])
            probe = probe[:-1]
        return _position(self.values[()]) if () in self.values else Position(1, 1)

    def diagnostic(
        self, path: Path, message: str, *, severity: Severity = "error", key: bool = False
    ) -> Diagnostic:
        where = self.position(path, key=key)
        return Diagnostic(
            self.filename, where.line, where.column, format_path(path), severity, message
        )


def yaml_loader() -> type[yaml.SafeLoader] | type[yaml.CSafeLoader]:
    """libyaml's safe loader when PyYAML was built with it (10x faster), else the pure one."""
    return yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


def load_yaml(text: str, filename: str) -> tuple[Source, list[Diagnostic]]:
    """Parse `text`; when it can't be read as a mapping, the Source holds no data and the
    error says where."""
    source = Source(filename, None)
    builder = _Builder(source)
    try:
        data = builder.document(_Events(yaml_loader()(text)))
    except UnicodeEncodeError:  # a lone surrogate, which libyaml can't take
        return source, [Diagnostic(filename, 1, 1, "", "error", "invalid YAML: not UTF-8 text")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        message = f"invalid YAML: {problem or exc}"
        if "maximum nesting depth" in problem:
            # Newer libyaml (PyYAML 6.0.4) refuses deep flow nesting while scanning ahead,
            # before zsync's own check sees it: the same file, the same answer.
            message = f"nested more than {MAX_DEPTH} levels deep; a job file needs far fewer"
        return source, [Diagnostic(filename, line, column, "", "error", message)]
    except yaml.reader.ReaderError as exc:  # a control character, a lone surrogate
        line, column = _reader_position(text, exc.position)
        message = f"invalid YAML: character {exc.character!r} is not allowed ({exc.reason})"
        return source, [Diagnostic(filename, line, column, "", "error", message)]
    except yaml.YAMLError as exc:
        return source, [Diagnostic(filename, 1, 1, "", "error", f"invalid YAML: {exc}")]
    except _SecondDocument as exc:
        message = "invalid YAML: a job file holds one document; found a second one"
        return source, [Diagnostic(filename, exc.at.line, exc.at.column, "", "error", message)]
    except _TooDeep as exc:
        message = f"nested more than {MAX_DEPTH} levels deep; a job file needs far fewer"
        shown = format_path(exc.path[:8]) + ("…" if len(exc.path) > 8 else "")
        return source, [Diagnostic(filename, exc.at.line, exc.at.column, shown, "error", message)]
    except _TooManyAliasNodes as exc:
        message = (
            f"aliases here build more than {MAX_ALIAS_NODES:,} nodes (aliases of aliases "
            "multiply); a job file may build at most that many through aliases"
        )
        shown = format_path(exc.path)
        return source, [
            *builder.diagnostics,
            Diagnostic(filename, exc.at.line, exc.at.column, shown, "error", message),
        ]
    if builder.empty:
        return source, [Diagnostic(filename, 1, 1, "", "error", "the file is empty")]
    if not isinstance(data, dict):
        root = source.position(())
        message = (
            f"expected a mapping, found {_kind(data, source.plain.get(()))} (a job file maps "
            "version, connections and jobs to their values)"
        )
        return source, [
            *builder.diagnostics,
            Diagnostic(filename, root.line, root.column, "", "error", message),
        ]
    source.data = data
    return source, builder.diagnostics


class _TooManyAliasNodes(Exception):
    def __init__(self, at: Position, path: Path) -> None:
        super().__init__("too many nodes built through aliases")
        self.at = at
        self.path = path


class _TooDeep(Exception):
    def __init__(self, at: Position, path: Path) -> None:
        super().__init__("nested too deeply")
        self.at = at
        self.path = path


class _SecondDocument(Exception):
    def __init__(self, at: Position) -> None:
        super().__init__("a second YAML document")
        self.at = at


class _Unusable(NamedTuple):
    """A number YAML reads but no job file can use (past 2^53, inf, nan), and why."""

    why: str


class _Events:
    """The parser's events; those of anchored nodes are kept, for aliases to replay."""

    live = True

    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader) -> None:
        self.loader = loader
        self.recording: list[Event] = []
        self.recorders = 0  # anchored nodes being read
        self.anchors: dict[str, tuple[int, int, Mark | None]] = {}  # name -> recording[start:end]
        self.open: set[str] = set()

    def __iter__(self) -> _Events:
        return self

    def __next__(self) -> Event:
        event = self.loader.get_event()
        if event is None:  # pragma: no cover - the builder stops at the stream's end
            raise yaml.YAMLError("the file ends inside a value")
        if self.recorders:
            self.recording.append(event)
        return event

    def begin_anchor(self, event: Event, name: str) -> int:
        """Record the node `event` starts; returns where its recording begins."""
        if not self.recorders:  # else __next__ has recorded it, inside an outer anchor
            self.recording.append(event)
        self.recorders += 1
        self.open.add(name)
        return len(self.recording) - 1

    def end_anchor(self, event: Event, name: str, start: int) -> None:
        self.recorders -= 1
        self.open.discard(name)
        self.anchors[name] = (start, len(self.recording), event.start_mark)


class _Replay:
    """An anchored node's events once more, for one alias."""

    live = False

    def __init__(self, events: list[Event], start: int, end: int) -> None:
        self.events = events
        self.index = start
        self.end = end

    def __iter__(self) -> _Replay:
        return self

    def __next__(self) -> Event:
        if self.index >= self.end:  # pragma: no cover - a recording holds whole nodes
            raise yaml.YAMLError("an anchored value ends too soon")
        self.index += 1
        return self.events[self.index - 1]


_Stream = _Events | _Replay


class _Builder:
    """Builds data from events; recursion is bounded by MAX_DEPTH, checked on the way in."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.events: _Events
        self.diagnostics: list[Diagnostic] = []
        self.resolver = Resolver()
        self.constructor = SafeConstructor()
        self.empty = False
        self.alias_nodes = 0
        self.alias_origin: tuple[Position, Path] | None = None  # the outermost alias being built
        self.recursive: set[int] = set()  # alias events already reported as recursive

    def document(self, events: _Events) -> Any:
        self.events = events
        next(events)  # StreamStartEvent
        start = next(events)
        if isinstance(start, StreamEndEvent):
            self.empty = True
            return None
        data = self.node(events, next(events), (), 0)
        next(events)  # DocumentEndEvent
        after = next(events)
        if not isinstance(after, StreamEndEvent):
            raise _SecondDocument(_at(after))
        return data

    def node(self, events: _Stream, event: Event, path: Path, depth: int) -> Any:
        if path not in self.source.values:
            self.source.values[path] = event.start_mark
        if isinstance(event, AliasEvent):
            return self.alias(event, path, depth)
        if not events.live:
            self.alias_nodes += 1
            if self.alias_nodes > MAX_ALIAS_NODES and self.alias_origin is not None:
                raise _TooManyAliasNodes(*self.alias_origin)
        anchor = event.anchor if events.live and isinstance(event, NodeEvent) else None
        start = self.events.begin_anchor(event, anchor) if anchor is not None else 0
        try:
            if isinstance(event, ScalarEvent):
                return self.scalar(event, path)
            return self.collection(events, event, path, depth)
        finally:
            if anchor is not None:
                if anchor in self.events.anchors:
                    first = _position(self.events.anchors[anchor][2]).line
                    self._error(
                        path,
                        f"anchor &{anchor} is defined twice (first at line {first}); its "
                        "aliases would be ambiguous",
                        event,
                    )
                self.events.end_anchor(event, anchor, start)

    def collection(self, events: _Stream, event: Event, path: Path, depth: int) -> Any:
        if depth >= MAX_DEPTH:
            # Stop reading here: the parsers slow down with every level (quadratically), so
            # reading to the end of 100,000 brackets would take minutes.
            raise _TooDeep(_at(event), path)
        tag = getattr(event, "tag", None)
        if tag not in PLAIN_TAGS:
            self._error(path, f"invalid YAML: tag {tag!r} is not allowed in a job file", event)
            _skip(events)
            return None
        if isinstance(event, SequenceStartEvent):
            items: list[Any] = []
            while not isinstance(item := next(events), SequenceEndEvent):
                items.append(self.node(events, item, (*path, len(items)), depth + 1))
            return items
        return self.mapping(events, path, depth)

    def mapping(self, events: _Stream, path: Path, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Mark | None] = {}
        merged: list[tuple[dict[str, Any], Source]] = []
        while not isinstance(key_event := next(events), MappingEndEvent):
            if not isinstance(key_event, ScalarEvent):
                self._error(path, "a key must be a plain name, not a list or mapping", key_event)
                _skip_node(events, key_event)
                _skip_node(events, next(events))
                continue
            value_event = next(events)
            key = key_event.value
            if key == "<<" and key_event.tag is None and key_event.implicit[0]:
                merged.extend(self.merge_sources(events, value_event, path, depth + 1))
                continue
            # Keys are names: keep their text as written (`on:` stays "on", `1:` stays "1").
            if key in first_seen:
                self._error(
                    (*path, key),
                    f"duplicate key '{key}' (first at line {_position(first_seen[key]).line}); "
                    "YAML would silently keep only the last one",
                    key_event,
                )
                _skip_node(events, value_event)
                continue
            first_seen[key] = key_event.start_mark
            self.source.keys[(*path, key)] = first_seen[key]
            result[key] = self.node(events, value_event, (*path, key), depth + 1)
        # `<<: *defaults` fills in the keys the mapping doesn't set itself, as YAML specifies;
        # each source was built aside, so only the keys it fills in bring their positions.
        for extra, aside in merged:
            for key, value in extra.items():
                if key not in result:
                    result[key] = value
                    _adopt(self.source, aside, (*path, key))
        return result

    def merge_sources(
        self, events: _Stream, event: Event, path: Path, depth: int
    ) -> list[tuple[dict[str, Any], Source]]:
        """The mappings `<<` merges, each built aside (positions and all) at `path`."""
        own = self.source
        self.source = Source(own.filename, None)
        try:
            value = self.node(events, event, path, depth)
        finally:
            aside, self.source = self.source, own
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            self._error(path, "'<<' merges only a mapping or a list of mappings", event)
            return []
        return [(s, aside) for s in sources]

    def alias(self, event: AliasEvent, path: Path, depth: int) -> Any:
        name = str(event.anchor)
        if id(event) in self.recursive:
            return None
        if name in self.events.open:
            self.recursive.add(id(event))
            self._error(
                path,
                f"alias *{name} is used inside the node it names (a recursive alias): it "
                "would never end",
                event,
            )
            return None
        if name not in self.events.anchors:
            self._error(path, f"alias *{name} names no anchor &{name} above it", event)
            return None
        start, end, _ = self.events.anchors[name]
        outermost = self.alias_origin is None
        if outermost:
            self.alias_origin = (_at(event), path)
        try:
            replay = _Replay(self.events.recording, start, end)
            return self.node(replay, next(replay), path, depth)
        finally:
            if outermost:
                self.alias_origin = None

    def scalar(self, event: ScalarEvent, path: Path) -> Any:
        text = event.value
        tag = event.tag
        if tag is None:
            # Most plain scalars (names, paths) start with a letter no YAML type starts with.
            plain = event.implicit[0] and (not text or text[0] in _RESOLVED_FIRST)
            tag = self.resolver.resolve(ScalarNode, text, event.implicit) if plain else STR_TAG
        if tag == "!" or tag in TEXT_TAGS:
            return text
        if tag == NULL_TAG:
            return None
        if tag not in (BOOL_TAG, INT_TAG, FLOAT_TAG):
            self._error(path, f"invalid YAML: tag {tag!r} is not allowed in a job file", event)
            return None
        try:
            value = self._bool_or_number(ScalarNode(tag, text))
        except (KeyError, ValueError, OverflowError):
            kind = tag.rsplit(":", 1)[1]
            self._error(path, f"invalid YAML: {text!r} is not a valid {kind}", event)
            return None
        self.source.plain[path] = text
        if isinstance(value, _Unusable):  # kept as text: the schema step decides
            self.source.unusable[path] = value.why
            return text
        return value

    def _bool_or_number(self, node: ScalarNode) -> bool | int | float | _Unusable:
        if node.tag == BOOL_TAG:
            return bool(self.constructor.construct_yaml_bool(node))
        if node.tag == INT_TAG:
            if len(node.value) > _MAX_INT_TEXT:
                return _Unusable("too large")
            whole = int(self.constructor.construct_yaml_int(node))
            return _Unusable("too large") if abs(whole) > MAX_SAFE_INTEGER else whole
        number = float(self.constructor.construct_yaml_float(node))
        return number if math.isfinite(number) else _Unusable("not a finite number")

    def _error(self, path: Path, message: str, event: Event) -> None:
        where = _at(event)
        self.diagnostics.append(
            Diagnostic(
                self.source.filename, where.line, where.column, format_path(path), "error", message
            )
        )


def _skip(events: _Stream) -> None:
    """Read past the rest of a collection whose start was read, without building it."""
    open_collections = 1
    for event in events:
        if isinstance(event, CollectionStartEvent):
            open_collections += 1
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            open_collections -= 1
            if not open_collections:
                return


def _skip_node(events: _Stream, event: Event) -> None:
    if isinstance(event, CollectionStartEvent):
        _skip(events)


def _adopt(source: Source, aside: Source, path: Path) -> None:
    """Copy what `aside` knows about `path` and below into `source`."""
    _copy_below(source.values, aside.values, path)
    _copy_below(source.keys, aside.keys, path)
    _copy_below(source.plain, aside.plain, path)
    _copy_below(source.unusable, aside.unusable, path)


def _copy_below(table: dict[Path, _T], aside: dict[Path, _T], path: Path) -> None:
    size = len(path)
    for where, what in aside.items():
        if where[:size] == path:
            table.setdefault(where, what)


def _at(event: Event) -> Position:
    return _position(event.start_mark)


def _position(mark: Mark | None) -> Position:
    return Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)


def _kind(value: Any, text: str | None) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(text if text is not None else value)


def _reader_position(text: str, offset: int) -> tuple[int, int]:
    """Line and column of a reader error; libyaml counts UTF-8 bytes, PyYAML characters."""
    if yaml_loader() is not yaml.SafeLoader:
        text = text.encode("utf-8", "replace")[:offset].decode("utf-8", "replace")
    else:
        text = text[:offset]
    return text.count("\n") + 1, len(text) - text.rfind("\n")
