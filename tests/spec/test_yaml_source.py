"""Positions, duplicate keys and YAML's surprises, at the loader."""

from __future__ import annotations

import pytest
import yaml

from zsync.spec.yaml_source import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    Position,
    load_yaml,
    yaml_loader,
)


def test_positions_of_keys_and_values() -> None:
    source, problems = load_yaml("a:\n  b: [1, two]\n  c: {d: x}\n", "f.yaml")
    assert problems == []
    assert source.data == {"a": {"b": [1, "two"], "c": {"d": "x"}}}
    assert source.position(("a", "b"), key=True) == Position(2, 3)
    assert source.position(("a", "b", 1)) == Position(2, 10)
    assert source.position(("a", "c", "d")) == Position(3, 10)
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
    assert any("recursive alias" in p.message for p in problems)


def test_libyaml_parses_when_pyyaml_has_it() -> None:
    assert yaml_loader() is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


def test_deep_nesting_is_refused_before_anything_recurses() -> None:
    for opening, closing in (("[", "]"), ("{a: ", "}")):
        text = "a: " + opening * 100_000 + "1" + closing * 100_000 + "\n"
        source, problems = load_yaml(text, "f.yaml")
        assert source.data is None
        assert [(p.line, p.message.split(";")[0]) for p in problems] == [
            (1, f"nested more than {MAX_DEPTH} levels deep")
        ]


def test_alias_bomb_is_refused_where_it_goes_off() -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    source, problems = load_yaml("\n".join(lines) + "\n", "f.yaml")
    assert source.data is None
    (problem,) = problems
    assert problem.line == 6  # the first alias past the budget, in f
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in problem.message


def test_anchors_inside_anchors() -> None:
    text = "a: &a {x: &x [1, &y 2], z: 3}\nb: *a\nc: *x\nd: *y\n"
    source, problems = load_yaml(text, "f.yaml")
    assert problems == []
    assert source.data == {
        "a": {"x": [1, 2], "z": 3},
        "b": {"x": [1, 2], "z": 3},
        "c": [1, 2],
        "d": 2,
    }


def test_a_few_aliases_are_fine() -> None:
    text = "base: &b {x: 1, y: [1, 2]}\n" + "".join(f"j{i}: {{<<: *b}}\n" for i in range(1000))
    source, problems = load_yaml(text, "f.yaml")
    assert problems == []
    assert source.data["j999"] == {"x": 1, "y": [1, 2]}


def test_merged_keys_bring_their_positions_and_own_keys_keep_theirs() -> None:
    text = "base: &b {x: 010, y: 2}\nuse:\n  <<: *b\n  y: 3\n"
    source, problems = load_yaml(text, "f.yaml")
    assert problems == []
    assert source.data["use"] == {"y": 3, "x": 8}
    assert source.position(("use", "y")) == Position(4, 6)
    assert source.position(("use", "x")) == Position(1, 14)
    assert source.plain[("use", "x")] == "010"
    assert source.plain[("use", "y")] == "3"


def test_huge_numbers_keep_their_text_and_say_why() -> None:
    text = f"a: {'9' * 5000}\nb: 9007199254740993\nc: .inf\nd: .NaN\ne: 1.0e+400\nf: 12\n"
    source, problems = load_yaml(text, "f.yaml")
    assert problems == []
    assert source.data["a"] == "9" * 5000
    assert source.data["b"] == "9007199254740993"
    assert source.unusable == {
        ("a",): "too large",
        ("b",): "too large",
        ("c",): "not a finite number",
        ("d",): "not a finite number",
        ("e",): "not a finite number",
    }
    assert source.data["f"] == 12


@pytest.mark.parametrize(
    ("text", "found"),
    [("~\n", "nothing"), ("- 1\n", "a list"), ("hello\n", "'hello'"), ("012\n", "'012'")],
)
def test_a_file_that_is_not_a_mapping_is_an_error(text: str, found: str) -> None:
    source, problems = load_yaml(text, "f.yaml")
    assert source.data is None
    assert [(p.line, p.column, p.severity) for p in problems] == [(1, 1, "error")]
    assert problems[0].message.startswith(f"expected a mapping, found {found}")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_an_empty_file_is_an_error(text: str) -> None:
    source, problems = load_yaml(text, "f.yaml")
    assert source.data is None
    assert [p.message for p in problems] == ["the file is empty"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\n---\nb: 2\n", 2, "a job file holds one document"),
        ("a: &x 1\nb: &x 2\n", 2, "anchor &x is defined twice (first at line 1)"),
        ("a: *nowhere\n", 1, "alias *nowhere names no anchor"),
        ("a: !!binary aGk=\n", 1, "tag 'tag:yaml.org,2002:binary' is not allowed"),
        ("a: !!int twelve\n", 1, "'twelve' is not a valid int"),
        ("a: !custom x\n", 1, "tag '!custom' is not allowed"),
        ("a:\n  b: \x07\n", 2, "is not allowed"),
        ("? [a]\n: b\n", 1, "a key must be a plain name"),
    ],
)
def test_located_yaml_problems(text: str, line: int, message: str) -> None:
    _source, problems = load_yaml(text, "f.yaml")
    assert any(p.line == line and message in p.message for p in problems), problems
