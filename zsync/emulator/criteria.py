"""CRM/Bigin bulk-read criteria: parse, check against a module's fields, and apply to rows.

A condition is `{api_name, comparator, value}` (Bigin v1 [seed 003]; CRM v2 [doc?]) or
`{field: {api_name}, comparator, value}` (CRM v3 and later document this one [doc: CRM v8
create bulk read job; Kaizen #195]; seed 002 echoes it); both are accepted on every product
and version, as CRM v8's SDK can send either [sdk]. A group is
`{group_operator: and|or, group: [...]}`, nested to any depth [seed 002/003]. Comparators per
data type follow seed 003's table, with one widening: seed 003's own ICS sample filters a
DateTime with `greater_equal`, so ordering comparators are accepted for Date/DateTime as well
(the seed's sample wins over its table). Text comparisons ignore case, as Zoho's searches do
[doc?].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime
from typing import Any

from zsync.emulator.data import Field

EMPTY = "${EMPTY}"
_ORDER = ("less_than", "less_equal", "greater_than", "greater_equal")
_EQ = ("equal", "not_equal", "in", "not_in")
COMPARATORS: dict[str, tuple[str, ...]] = {
    "number": (*_EQ, *_ORDER),
    "text": (*_EQ, "contains", "not_contains", "starts_with", "ends_with"),
    "date": (*_EQ, "between", "not_between", *_ORDER),
    "boolean": ("equal",),
    "lookup": _EQ,
}
_FAMILY = {
    "integer": "number",
    "currency": "number",
    "decimal": "number",
    "bigint": "number",
    "percent": "number",
    "text": "text",
    "email": "text",
    "phone": "text",
    "website": "text",
    "picklist": "text",
    "multiselect": "text",
    "date": "date",
    "datetime": "date",
    "boolean": "boolean",
    "lookup": "lookup",
    "owner": "lookup",
}


class CriteriaError(ValueError):
    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


@dataclass(frozen=True)
class Condition:
    api_name: str
    comparator: str
    value: Any
    field: Field
    # True when the request named the field as {field: {api_name}}: status replies echo the
    # form the request used. Not part of what the condition means (repr, ==): a page token
    # stays good for the same filter however it is spelt.
    field_form: bool = dataclass_field(default=False, repr=False, compare=False)


@dataclass(frozen=True)
class Group:
    operator: str
    items: tuple[Condition | Group, ...]


Node = Condition | Group


def family(field: Field) -> str:
    return _FAMILY.get(field.type, "text")


def parse(obj: Any, resolve: Callable[[str], Field | None], path: str = "criteria") -> Node:
    """Build a checked tree; `resolve` maps an api_name (dotted too) to its Field or None."""
    if not isinstance(obj, dict):
        raise CriteriaError("invalid criteria", {"json_path": f"$.query.{path}"})
    if "group" in obj:
        operator = str(obj.get("group_operator", "")).lower()
        items = obj["group"]
        if operator not in ("and", "or"):
            raise CriteriaError(
                "invalid group_operator",
                {"api_name": "group_operator", "json_path": f"$.query.{path}.group_operator"},
            )
        if not isinstance(items, list) or not items:
            raise CriteriaError("group should not be empty", {"json_path": f"$.query.{path}.group"})
        return Group(
            operator,
            tuple(parse(item, resolve, f"{path}.group[{i}]") for i, item in enumerate(items)),
        )
    api_name = obj.get("api_name")
    field_form = api_name is None and isinstance(obj.get("field"), dict)
    if field_form:
        api_name = obj["field"].get("api_name")
    name_path = f"$.query.{path}.field.api_name" if field_form else f"$.query.{path}.api_name"
    comparator = obj.get("comparator")
    if not api_name or not comparator or "value" not in obj:
        missing = "api_name" if not api_name else "comparator" if not comparator else "value"
        where = name_path if missing == "api_name" else f"$.query.{path}.{missing}"
        raise CriteriaError(
            f"{missing} is missing in criteria", {"api_name": missing, "json_path": where}
        )
    field = resolve(api_name)
    if field is None:
        raise CriteriaError(
            "invalid field in criteria", {"api_name": api_name, "json_path": name_path}
        )
    comparator = str(comparator).lower()
    if comparator not in COMPARATORS[family(field)]:
        raise CriteriaError(
            "invalid comparator for the field",
            {
                "api_name": api_name,
                "comparator": comparator,
                "json_path": f"$.query.{path}.comparator",
            },
        )
    value = obj["value"]
    pair = isinstance(value, list) and len(value) == 2
    if comparator in ("between", "not_between") and not pair:
        raise CriteriaError(
            "between needs two values", {"api_name": api_name, "json_path": f"$.query.{path}.value"}
        )
    return Condition(api_name, comparator, value, field, field_form)


def matches(node: Node, get: Callable[[str], Any]) -> bool:
    if isinstance(node, Group):
        results = (matches(item, get) for item in node.items)
        return all(results) if node.operator == "and" else any(results)
    return _compare(node, get(node.api_name))


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def _norm(fam: str, value: Any) -> Any:
    if fam == "number":
        return float(value)
    if fam == "boolean":
        return value if isinstance(value, bool) else str(value).strip().lower() == "true"
    if fam == "date":
        return _when(value)
    if fam == "text":
        return str(value).lower()
    return str(value)


def _when(value: Any) -> datetime:
    text = str(value)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _compare(cond: Condition, actual: Any) -> bool:
    fam, op, expected = family(cond.field), cond.comparator, cond.value
    values = expected if isinstance(expected, list) else [expected]
    if op in ("in", "not_in"):
        hit = any(_equal(fam, actual, v) for v in values)
        return hit if op == "in" else not hit
    if op in ("equal", "not_equal"):
        hit = _equal(fam, actual, expected)
        return hit if op == "equal" else not hit
    if op in ("between", "not_between"):
        if _is_empty(actual):
            return op == "not_between"
        low, high = (_norm(fam, v) for v in expected)
        inside = low <= _norm(fam, actual) <= high
        return inside if op == "between" else not inside
    if _is_empty(actual):
        return op == "not_contains"
    a, e = _norm(fam, actual), _norm(fam, expected)
    return {
        "less_than": lambda: a < e,
        "less_equal": lambda: a <= e,
        "greater_than": lambda: a > e,
        "greater_equal": lambda: a >= e,
        "contains": lambda: e in a,
        "not_contains": lambda: e not in a,
        "starts_with": lambda: a.startswith(e),
        "ends_with": lambda: a.endswith(e),
    }[op]()


def _equal(fam: str, actual: Any, expected: Any) -> bool:
    if expected == EMPTY or expected is None:
        return _is_empty(actual)
    if _is_empty(actual):
        return False
    try:
        return bool(_norm(fam, actual) == _norm(fam, expected))
    except ValueError:
        return False
