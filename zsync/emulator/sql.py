"""A small SQL subset for Analytics' SQL export and query tables.

    SELECT *|col|AGG(col|*) [AS alias], …  FROM table
      [WHERE cond {AND|OR} cond …]
          cond: col op literal | (cond …) | NOT cond;  op: = != <> < <= > >= LIKE
      [GROUP BY col, …] [ORDER BY col|alias|AGG(col) [ASC|DESC], …] [LIMIT n [OFFSET m]]

AGG is SUM, COUNT, AVG, MIN or MAX. Anything else raises `SqlError`, which the Analytics
handler turns into Zoho's failure reply. Identifiers may be quoted with "", `` or [].
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

AGGREGATES = ("SUM", "COUNT", "AVG", "MIN", "MAX")
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "AS",
    "ASC",
    "DESC",
    "LIKE",
}
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"[^"]+"|`[^`]+`|\[[^\]]+\])
  | (?P<id>[A-Za-z_$][A-Za-z0-9_$]*)
  | (?P<op><=|>=|<>|!=|=|<|>|\(|\)|,|\*)
  )""",
    re.VERBOSE,
)


class SqlError(ValueError):
    pass


@dataclass(frozen=True)
class Tok:
    kind: str  # num str id qid op kw
    text: str


def tokenize(sql: str) -> list[Tok]:
    tokens: list[Tok] = []
    position = 0
    text = sql.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise SqlError(f"unexpected input near: {text[position : position + 20]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "id" and value.upper() in _KEYWORDS:
            tokens.append(Tok("kw", value.upper()))
        elif kind == "qid":
            tokens.append(Tok("id", value[1:-1]))
        elif kind == "str":
            tokens.append(Tok("str", value[1:-1].replace("''", "'")))
        else:
            tokens.append(Tok(kind, value))
    return tokens


@dataclass(frozen=True)
class Item:
    """One select-list entry: a column or an aggregate of one."""

    column: str | None  # None with func COUNT means COUNT(*)
    func: str | None
    alias: str

    def key(self) -> tuple[str | None, str | None]:
        return (self.func, self.column)


@dataclass
class Query:
    items: list[Item]
    star: bool
    table: str
    where: Any = None
    group_by: list[str] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (name, descending)
    limit: int | None = None
    offset: int = 0


class _Parser:
    def __init__(self, tokens: list[Tok]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str | None = None, text: str | None = None) -> Tok:
        tok = self.peek()
        if tok is None or (kind and tok.kind != kind) or (text and tok.text.upper() != text):
            raise SqlError(f"expected {text or kind}, found {tok.text if tok else 'end of query'}")
        self.i += 1
        return tok

    def accept(self, kind: str, text: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == kind and tok.text.upper() == text:
            self.i += 1
            return True
        return False

    def parse(self) -> Query:
        self.take("kw", "SELECT")
        star, items = False, []
        if self.accept("op", "*"):
            star = True
        else:
            items.append(self.item())
            while self.accept("op", ","):
                items.append(self.item())
        self.take("kw", "FROM")
        query = Query(items, star, self.take("id").text)
        if self.accept("kw", "WHERE"):
            query.where = self.or_expr()
        if self.accept("kw", "GROUP"):
            self.take("kw", "BY")
            query.group_by = [self.take("id").text]
            while self.accept("op", ","):
                query.group_by.append(self.take("id").text)
        if self.accept("kw", "ORDER"):
            self.take("kw", "BY")
            query.order_by = [self.order_key()]
            while self.accept("op", ","):
                query.order_by.append(self.order_key())
        if self.accept("kw", "LIMIT"):
            query.limit = int(self.take("num").text)
            if self.accept("kw", "OFFSET"):
                query.offset = int(self.take("num").text)
        if self.peek() is not None:
            raise SqlError(f"unsupported SQL near {self.peek().text!r}")  # type: ignore[union-attr]
        return query

    def item(self) -> Item:
        tok = self.take("id")
        if tok.text.upper() in AGGREGATES and self.accept("op", "("):
            func = tok.text.upper()
            column = None if func == "COUNT" and self.accept("op", "*") else self.take("id").text
            self.take("op", ")")
            name = f"{func}({column or '*'})"
            item = Item(column, func, name)
        elif self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
            raise SqlError(f"unsupported function {tok.text}")
        else:
            item = Item(tok.text, None, tok.text)
        if self.accept("kw", "AS"):
            item = Item(item.column, item.func, self.take("id").text)
        return item

    def order_key(self) -> tuple[str, bool]:
        tok = self.take("id")
        name = tok.text
        if tok.text.upper() in AGGREGATES and self.accept("op", "("):
            arg = "*" if self.accept("op", "*") else self.take("id").text
            self.take("op", ")")
            name = f"{tok.text.upper()}({arg})"
        descending = False
        if self.accept("kw", "DESC"):
            descending = True
        else:
            self.accept("kw", "ASC")
        return name, descending

    def or_expr(self) -> Any:
        left = self.and_expr()
        while self.accept("kw", "OR"):
            left = ("or", left, self.and_expr())
        return left

    def and_expr(self) -> Any:
        left = self.not_expr()
        while self.accept("kw", "AND"):
            left = ("and", left, self.not_expr())
        return left

    def not_expr(self) -> Any:
        if self.accept("kw", "NOT"):
            return ("not", self.not_expr())
        if self.accept("op", "("):
            inner = self.or_expr()
            self.take("op", ")")
            return inner
        column = self.take("id").text
        tok = self.peek()
        if tok is not None and tok.kind == "kw" and tok.text == "LIKE":
            self.i += 1
            op = "LIKE"
        else:
            op = self.take("op").text
            if op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
                raise SqlError(f"unsupported operator {op}")
        literal = self.take()
        if literal.kind not in ("num", "str"):
            raise SqlError("only literal values may be compared")
        value: Any = float(literal.text) if literal.kind == "num" else literal.text
        return ("cmp", column, op, value)


def parse(sql: str) -> Query:
    return _Parser(tokenize(sql)).parse()


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _test(expr: Any, row: dict[str, Any]) -> bool:
    tag = expr[0]
    if tag == "and":
        return _test(expr[1], row) and _test(expr[2], row)
    if tag == "or":
        return _test(expr[1], row) or _test(expr[2], row)
    if tag == "not":
        return not _test(expr[1], row)
    _, column, op, value = expr
    actual = row.get(column)
    if actual is None:
        return op in ("!=", "<>")
    if op == "LIKE":
        return _like(str(actual), str(value))
    if isinstance(value, float):
        try:
            actual = float(actual)
        except (TypeError, ValueError):
            return False
    else:
        actual = str(actual)
    return {
        "=": actual == value,
        "!=": actual != value,
        "<>": actual != value,
        "<": actual < value,
        "<=": actual <= value,
        ">": actual > value,
        ">=": actual >= value,
    }[op]


def _aggregate(func: str, values: list[Any]) -> Any:
    present = [v for v in values if v is not None and v != ""]
    if func == "COUNT":
        return len(present)
    if not present:
        return None
    if func == "MIN":
        return min(present)
    if func == "MAX":
        return max(present)
    total = sum(float(v) for v in present)
    if func == "SUM":
        return int(total) if all(isinstance(v, int) for v in present) else round(total, 2)
    return round(total / len(present), 2)


def execute(
    query: Query, columns: list[str], rows: Callable[[], Iterable[dict[str, Any]]]
) -> tuple[list[str], list[list[Any]]]:
    """Run `query` over the table's `rows`; returns (header, rows of values)."""
    known = set(columns)
    named = [i.column for i in query.items if i.column]
    for name in named + query.group_by + _where_columns(query.where):
        if name not in known:
            raise SqlError(f"column {name} is not present in table {query.table}")
    items = [Item(c, None, c) for c in columns] if query.star else query.items
    has_agg = any(i.func for i in items)
    for item in items:
        if not item.func and has_agg and item.column not in query.group_by:
            raise SqlError(f"column {item.column} must appear in GROUP BY")
    if query.group_by and not has_agg and any(i.column not in query.group_by for i in items):
        raise SqlError("non-grouped column in select list")
    matching = (r for r in rows() if query.where is None or _test(query.where, r))
    header = [i.alias for i in items]
    if has_agg or query.group_by:
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in matching:
            groups.setdefault(tuple(row.get(c) for c in query.group_by), []).append(row)
        if not query.group_by and not groups:
            groups[()] = []
        out = []
        for key, members in groups.items():
            by_group = dict(zip(query.group_by, key, strict=True))
            out.append(
                [
                    _aggregate(
                        i.func,
                        [m.get(i.column) for m in members] if i.column else [1] * len(members),
                    )
                    if i.func
                    else by_group[i.column or ""]
                    for i in items
                ]
            )
    else:
        out = [[row.get(i.column) for i in items] for row in matching]  # type: ignore[arg-type]
    if query.order_by:
        positions = _order_positions(query, items)
        for position, descending in reversed(positions):
            out.sort(key=partial(_sort_key, position), reverse=descending)
    end = None if query.limit is None else query.offset + query.limit
    return header, out[query.offset : end]


def _order_positions(query: Query, items: list[Item]) -> list[tuple[int, bool]]:
    positions = []
    for name, descending in query.order_by:
        for index, item in enumerate(items):
            spelled = f"{item.func}({item.column or '*'})" if item.func else item.column
            if name in (item.alias, spelled):
                positions.append((index, descending))
                break
        else:
            raise SqlError(f"ORDER BY {name} must name a selected column")
    return positions


def _where_columns(expr: Any) -> list[str]:
    if expr is None:
        return []
    if expr[0] in ("and", "or"):
        return _where_columns(expr[1]) + _where_columns(expr[2])
    if expr[0] == "not":
        return _where_columns(expr[1])
    return [expr[1]]


def _sort_key(position: int, row: list[Any]) -> tuple[bool, Any]:
    """Nulls last; values compared as they are."""
    value = row[position]
    return value is None, value if value is not None else 0
