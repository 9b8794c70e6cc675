"""Positions, duplicate keys and YAML's surprises, at the loader."""

from __future__ import annotations

from zsync.spec.yaml_source import Position, load_yaml


def test_positions_of_keys_and_values() -> None:
    source, problems = load_yaml("a:\n  b: [1, two]\n  c: {d: x}\n", "f.yaml")
    assert problems == []
    assert source.data == {"a": {"b": [1, "two"], "c": {"d": "x"}}}
    assert source.keys[("a", "b")] == Position(2, 3)
    assert source.values[("a", "b", 1)] == Position(2, 10)
    assert source.values[("a", "c", "d")] == Position(3, 10)
    # A path that isn't there falls back to its nearest parent.
    assert source.position(("a", "c", "zz")) == Position(3, 6)


def test_duplicate_keys_are_errors_and_first_wins() -> None:
    source, problems = load_yaml("jobs:\n  x: 1\n  y: 2\n  x: 3\n", "f.yaml")
    assert [(p.line, p.column, p.path) for p in problems] == [(4, 3, "jobs.x")]
    assert "first at line 2" in problems[0].message
    assert source.data == {"jobs": {"x": 1, "y": 2}}


def test_dates_stay_text_and_keys_stay_as_written() -> None:
    source, _ = load_yaml("on: 2024-01-31\n1: yes\n", "f.yaml")
    assert source.data == {"on": "2024-01-31", "1": True}


def test_anchors_aliases_and_merge_keys() -> None:
    text = "base: &b {x: 1, y: 2}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n"
    source, problems = load_yaml(text, "f.yaml")
    assert problems == []
    assert source.data["use"] == {"x": 1, "y": 2}
    assert source.data["merged"] == {"x": 1, "y": 3}


def test_syntax_error_points_at_the_problem() -> None:
    source, problems = load_yaml("a:\n  b: [1, 2\nc: 3\n", "f.yaml")
    assert source.data is None
    assert len(problems) == 1
    assert problems[0].line == 3
    assert problems[0].message.startswith("invalid YAML")


def test_unsafe_tags_are_refused() -> None:
    source, problems = load_yaml("a: !!python/object/apply:os.system ['true']\n", "f.yaml")
    assert problems
    assert "invalid YAML" in problems[0].message
    assert source.data == {"a": None}
    _, problems = load_yaml("a: !!python/name:os.system\n", "f.yaml")
    assert "invalid YAML" in problems[0].message


def test_recursive_alias_does_not_hang() -> None:
    _source, problems = load_yaml("a: &a [*a]\n", "f.yaml")
    assert any("nested too deeply" in p.message for p in problems)
