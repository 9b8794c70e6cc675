"""Write docs/job-file.md from schemas/zsync.schema.json.

    python -m zsync.docs_gen            # rewrite docs/job-file.md
    python -m zsync.docs_gen --check    # exit 1 if the committed file is stale

The schema is the one source of truth for the job file; the page is derived from it so the two
can't drift (tests/test_docs.py fails when they do). Nothing on the CLI's start path imports
this module: it runs only here and in the tests.

Sections follow the schema's own order, walking from the root through every `$ref` depth first;
a `$defs` entry reached from several places gets one section that lists them all.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Node = Mapping[str, Any]

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "schemas" / "zsync.schema.json"
OUTPUT = REPO / "docs" / "job-file.md"
COMMAND = "python -m zsync.docs_gen"

# Descriptions record most defaults in words ("Default 1s.", "Default: com."); the text runs to
# the first full stop that ends a sentence (so "0.5s" stays whole) or a semicolon.
_DEFAULT_IN_TEXT = re.compile(r"\bDefault:? (.+?)(?:\.(?=\s|$)|;|$)")


@dataclass
class Section:
    """One heading of the page: an object, a choice between objects, or a kind of value."""

    key: str  # the $defs name, or the path of an inline object
    node: Node
    kind: str  # "object", "choice" or "value"
    paths: list[str] = field(default_factory=list)


def load(path: Path = SCHEMA) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _def_name(ref: str) -> str:
    prefix = "#/$defs/"
    if not ref.startswith(prefix):
        raise ValueError(f"only local $defs references are documented, not {ref}")
    return ref[len(prefix) :]


def _kind(node: Node) -> str:
    if node.get("type") == "object" and "properties" in node:
        return "object"
    if "oneOf" in node and all("$ref" in alt for alt in node["oneOf"]):
        return "choice"
    return "value"


class _Walk:
    """Collects the sections in first-visit order and every path each one is reached at."""

    def __init__(self, schema: Node) -> None:
        self.defs: Mapping[str, Node] = schema.get("$defs", {})
        self.sections: dict[str, Section] = {}
        self.inline: dict[int, str] = {}  # id() of an inline object's node -> its section key
        self._enter("", schema, "", ())

    def visit(self, key: str, node: Node, path: str, stack: tuple[str, ...]) -> None:
        if "$ref" in node:
            name = _def_name(node["$ref"])
            self._enter(name, self.defs[name], path, stack)
        elif node.get("type") == "object" and "properties" in node:
            # An inline object (limits.requests) is a section of its own, named by its path.
            self._enter(self.inline.setdefault(id(node), key), node, path, stack)
        else:
            self._children(node, path, stack)

    def _enter(self, key: str, node: Node, path: str, stack: tuple[str, ...]) -> None:
        section = self.sections.setdefault(key, Section(key, node, _kind(node)))
        if path and path not in section.paths:
            section.paths.append(path)
        if key not in stack:
            self._children(node, path, (*stack, key))
        elif section.kind == "choice":
            # A criteria group holds criteria: where the choice recurs, note the path on each
            # alternative but walk no deeper.
            for alternative in node["oneOf"]:
                name = _def_name(alternative["$ref"])
                self._enter(name, self.defs[name], path, (*stack, name))

    def _children(self, node: Node, path: str, stack: tuple[str, ...]) -> None:
        for name, sub in node.get("properties", {}).items():
            child = f"{path}.{name}" if path else name
            self.visit(child, sub, child, stack)
        for word in ("propertyNames", "additionalProperties"):
            sub = node.get(word)
            if isinstance(sub, Mapping):
                self.visit(f"{path}.NAME", sub, f"{path}.NAME", stack)
        items = node.get("items")
        if isinstance(items, Mapping):
            self.visit(f"{path}[]", items, f"{path}[]", stack)
        for alternative in node.get("oneOf", []) + node.get("anyOf", []):
            self.visit(path, alternative, path, stack)


def sections(schema: Node) -> tuple[list[Section], dict[int, str]]:
    """Objects and choices in the order first met, then the kinds of value by name; and the
    section key of each inline object (by the id of its node), to link to it."""
    walk = _Walk(schema)
    found = list(walk.sections.values())
    values = sorted((s for s in found if s.kind == "value"), key=lambda s: s.key)
    return [s for s in found if s.kind != "value"] + values, walk.inline


def heading(section: Section) -> str:
    if "title" in section.node and section.key:
        return str(section.node["title"])
    if not section.key:
        return "Top level"
    if section.kind != "value" and len(section.paths) == 1:
        return f"`{section.paths[0]}`"
    return f"`{section.key}`"


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{text}`"


def _text(text: str) -> str:
    """Schema prose as Markdown: `<output>` outside a code span would vanish as an HTML tag."""
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in parts)


def _cell(text: str) -> str:
    # A table cell is one line, and `|` ends it even inside a code span.
    return " ".join(text.split()).replace("|", "\\|")


class _Types:
    """Renders a schema node's type as Markdown, linking referenced sections."""

    def __init__(self, schema: Node, found: Sequence[Section], inline: Mapping[int, str]) -> None:
        self.defs: Mapping[str, Node] = schema.get("$defs", {})
        self.inline = inline
        self.anchors = {s.key: slug(heading(s)) for s in found}
        self.titles = {s.key: heading(s) for s in found}

    def link(self, name: str) -> str:
        label = self.titles[name].strip("`")
        return f"[{label}](#{self.anchors[name]})"

    def of(self, node: Node) -> str:
        if "$ref" in node:
            return self.link(_def_name(node["$ref"]))
        if id(node) in self.inline:
            return self.link(self.inline[id(node)])
        if "const" in node:
            return f"{_code(node['const'])} (constant)"
        if "enum" in node:
            return "one of " + ", ".join(_code(v) for v in node["enum"])
        if "oneOf" in node or "anyOf" in node:
            return " or ".join(self.of(alt) for alt in node.get("oneOf", node.get("anyOf")))
        kind = node.get("type")
        names = kind if isinstance(kind, list) else [kind] if kind else []
        if "array" in names and isinstance(node.get("items"), Mapping):
            inner = self.of(node["items"])
            names = [n for n in names if n != "array"]
            names.append(f"array of ({inner})" if " or " in inner else f"array of {inner}")
        elif "object" in names and isinstance(node.get("additionalProperties"), Mapping):
            key = self.of(node["propertyNames"]) if "propertyNames" in node else "string"
            names = [f"map of {key} → {self.of(node['additionalProperties'])}"]
        text = " or ".join(names) if names else "any"
        limits = constraints(node)
        if limits and "array" in names[-1]:
            return f"{text}; {limits}"  # the list's own bounds, apart from its items'
        return f"{text} ({limits})" if limits else text


def constraints(node: Node) -> str:
    """The bounds a value must keep, in words."""
    parts: list[str] = []
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None and high is not None:
        parts.append(f"{low} to {high}")
    elif low is not None:
        parts.append(f"≥ {low}")
    elif high is not None:
        parts.append(f"≤ {high}")
    if "exclusiveMinimum" in node:
        parts.append(f"> {node['exclusiveMinimum']}")
    if "multipleOf" in node:
        parts.append(f"a multiple of {node['multipleOf']}")
    if node.get("minLength") == 1:
        parts.append("not empty")
    elif "minLength" in node:
        parts.append(f"at least {node['minLength']} characters")
    if "pattern" in node:
        parts.append(f"matching {_code(node['pattern'])}")
    if "format" in node:
        parts.append(f"format {_code(node['format'])}")
    counts = [node.get(k) for k in ("minItems", "maxItems", "minProperties")]
    if counts[0] is not None and counts[1] is not None:
        parts.append(f"{counts[0]} to {counts[1]} items")
    elif counts[0] is not None:
        parts.append(f"at least {counts[0]} item{'s' if counts[0] != 1 else ''}")
    if counts[2] is not None:
        parts.append(f"at least {counts[2]} entr{'ies' if counts[2] != 1 else 'y'}")
    if node.get("uniqueItems"):
        parts.append("no duplicates")
    return ", ".join(parts)


def default(node: Node) -> str:
    if "default" in node:
        return _code(node["default"])
    found = _DEFAULT_IN_TEXT.search(node.get("description", ""))
    return _code(found.group(1)) if found else ""


def _condition(node: Node) -> str:
    """An `if` in words: `product` is `analytics`, `export` is present, ..."""
    words: list[str] = []
    tests = node.get("properties", {})
    for name, test in tests.items():
        if "const" in test:
            words.append(f"`{name}` is {_code(test['const'])}")
        elif "enum" in test:
            words.append(f"`{name}` is one of " + ", ".join(_code(v) for v in test["enum"]))
    for name in node.get("required", []):
        if name not in tests:
            words.append(f"`{name}` is present")
    return " and ".join(words)


def _names(names: Sequence[str], last: str = "and") -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {last} " + quoted[-1]


def _conditionals(node: Node) -> Iterator[tuple[str, Node]]:
    if "if" in node:
        yield _condition(node["if"]), node["then"]
    for part in node.get("allOf", []):
        if "if" in part:
            yield _condition(part["if"]), part["then"]


def rules(node: Node) -> list[str]:
    """An object's requirements that no single row can state, in words."""
    lines: list[str] = []
    alternatives = [alt.get("required", []) for alt in node.get("oneOf", [])]
    if alternatives and all(len(names) == 1 for names in alternatives):
        lines.append("Exactly one of " + _names([n[0] for n in alternatives], "or") + ".")
    for when, then in _conditionals(node):
        said: list[str] = []
        if then.get("required"):
            verb = "is" if len(then["required"]) == 1 else "are"
            said.append(f"{_names(then['required'])} {verb} required")
        refused = [k for k, v in then.get("properties", {}).items() if v.get("not") == {}]
        if refused:
            said.append(f"{_names(refused)} {'is' if len(refused) == 1 else 'are'} not allowed")
        lines.append(f"When {when}: " + "; ".join(said) + ".")
    if node.get("minProperties"):
        lines.append(f"At least {node['minProperties']} key must be set.")
    if node.get("additionalProperties") is False:
        lines.append("No other keys are allowed.")
    return lines


def required(node: Node, name: str) -> str:
    if name in node.get("required", []):
        return "yes"
    alternatives = [alt.get("required", []) for alt in node.get("oneOf", [])]
    if any(name in names for names in alternatives):
        return "one of " + " / ".join(f"`{n}`" for names in alternatives for n in names)
    whens = [when for when, then in _conditionals(node) if name in then.get("required", [])]
    return "when " + "; when ".join(whens) if whens else "no"


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


def _examples(node: Node) -> str:
    shown = node.get("examples", [])
    return " ".join(f"Example: {_code(ex)}." for ex in shown)


def _describe(node: Node, defs: Mapping[str, Node]) -> str:
    text = node.get("description")
    if text is None and "$ref" in node:
        text = _first_sentence(defs[_def_name(node["$ref"])].get("description", ""))
    return " ".join(t for t in (_text(text or ""), _examples(node)) if t)


def _table(node: Node, types: _Types, defs: Mapping[str, Node]) -> list[str]:
    rows = ["| Key | Type | Required | Default | Description |", "|---|---|---|---|---|"]
    for name, sub in node.get("properties", {}).items():
        cells = (
            f"`{name}`",
            types.of(sub),
            required(node, name),
            default(sub),
            _describe(sub, defs),
        )
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def _section(section: Section, types: _Types, defs: Mapping[str, Node]) -> list[str]:
    node = section.node
    lines = [f"## {heading(section)}", ""]
    if section.key and (len(section.paths) > 1 or heading(section) != f"`{section.paths[0]}`"):
        lines += ["Used at: " + ", ".join(f"`{p}`" for p in section.paths) + ".", ""]
    if node.get("description") and section.key:  # the root's opens the page
        lines += [_text(node["description"]), ""]
    if section.kind == "object":
        lines += [*_table(node, types, defs), ""]
        lines += [f"- {rule}" for rule in rules(node)]
    elif section.kind == "choice":
        lines.append("One of:")
        lines += [f"- {types.of(alt)}" for alt in node["oneOf"]]
    else:
        lines.append(f"Type: {types.of(node)}.")
        if _examples(node):
            lines += ["", _examples(node)]
    return [*lines, ""]


def render(schema: Node) -> str:
    found, inline = sections(schema)
    titles = [heading(s) for s in found]
    clash = sorted({t for t in titles if titles.count(t) > 1})
    if clash:
        raise ValueError(f"two sections would share a heading: {clash}")
    defs: Mapping[str, Node] = schema.get("$defs", {})
    types = _Types(schema, found, inline)
    lines = [
        f"<!-- Generated from schemas/zsync.schema.json by `{COMMAND}`. Don't edit by hand. -->",
        "",
        f"# {schema.get('title', 'Job file')}",
        "",
        _text(schema.get("description", "")),
        "",
        f"Schema: [`schemas/zsync.schema.json`](../schemas/zsync.schema.json), JSON Schema "
        f"{_code(schema['$schema'])}, `$id` {_code(schema.get('$id', '(none)'))}. "
        "`zsync schema` prints it.",
        "",
        "`NAME` in a path stands for a name you choose (a connection or a job); `[]` for an "
        "item of a list. A default in the Default column is what zsync uses when the key is "
        "left out.",
        "",
        "## Contents",
        "",
    ]
    lines += [f"- [{t.strip('`')}](#{slug(t)})" for t in titles]
    lines.append("")
    for section in found:
        lines += _section(section, types, defs)
    return "\n".join(lines).rstrip("\n") + "\n"


def property_keys(node: Any) -> set[str]:
    """Every key any `properties` in the schema names (what the page must document)."""
    keys: set[str] = set()
    if isinstance(node, Mapping):
        keys.update(node.get("properties", {}))
        for value in node.values():
            keys |= property_keys(value)
    elif isinstance(node, list):
        for value in node:
            keys |= property_keys(value)
    return keys


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render(load())
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
    if args.check:
        if current == text:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{args.output} (committed)",
            f"{args.output} (from the schema)",
        )
        sys.stderr.writelines(list(diff)[:60])
        sys.stderr.write(f"\n{args.output} is stale: run `{COMMAND}` and commit the result\n")
        return 1
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
