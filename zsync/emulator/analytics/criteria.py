"""Analytics export `criteria`: the SQL-like filter a view export takes, parsed into a
predicate over rows.

The grammar Zoho documents (v2 export pages, "criteria syntax": `"Region"='East'`,
`"SalesTable"."Region"='East'`, `"Sales">1000 and "Region"='West'`, `"Region" in
('East','West')`), as far as this emulator goes:

    expression := term (OR term)*          term := factor (AND factor)*
    factor     := NOT factor | '(' expression ')' | comparison
    comparison := column op literal | column [NOT] IN '(' literal, … ')'
                | column [NOT] LIKE 'pattern' | column IS [NOT] NULL
    column     := "Column" | "Table"."Column"        op := = != <> < > <= >=
    literal    := 'text' ('' escapes a quote) | number

Keywords ignore case. Errors carry Zoho's codes (the same pages' error table): 7331 a malformed
expression, 7330 an unknown column, 7332 a table the view doesn't use, 7333 an aggregate
function, 7327 what parses but can't be compared (a text value against a number column).
Text compares without regard to case [guess: MySQL-like collation]; a date column compares
with `yyyy-MM-dd` or `dd-MMM-yyyy` text (the pages' sample uses the latter).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

AGGREGATES = frozenset({"sum", "avg", "count", "min", "max", "distinctcount", "stddev"})
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<column>"(?:[^"]|"")*")
      | (?P<text>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),.])
      | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
    )""",
    re.X,
)


class CriteriaError(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def compile_criteria(text: str, columns: Mapping[str, str], tables: Sequence[str]) -> Predicate:
    """A predicate for `text` over rows keyed by column name; `columns` maps each column
    of the view to its type (text, integer, decimal, date), `tables` are the names a column
    may be qualified with (the view's own and its table's)."""
    parser = _Parser(_tokens(text), columns, {t.lower() for t in tables})
    predicate = parser.expression()
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        raise _malformed(f"unexpected {token.text!r} at character {token.at + 1}")
    return predicate


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _malformed(f"cannot read {text[position:].strip()[:20]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


def _malformed(message: str) -> CriteriaError:
    return CriteriaError(7331, f"Invalid criteria: {message}.")


class _Parser:
    def __init__(self, tokens: list[_Token], columns: Mapping[str, str], tables: set[str]) -> None:
        self.tokens = tokens
        self.index = 0
        self.columns = columns
        self.tables = tables

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise _malformed("the expression ends too soon")
        self.index += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.lower() in words:
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise _malformed(f"expected {text!r} at character {token.at + 1}")

    def expression(self) -> Predicate:
        terms = [self.term()]
        while self.keyword("or"):
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else (lambda row: any(t(row) for t in terms))

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self.keyword("and"):
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else (lambda row: all(f(row) for f in factors))

    def factor(self) -> Predicate:
        if self.keyword("not"):
            inner = self.factor()
            return lambda row: not inner(row)
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        column = self.column()
        type_ = self.columns[column]
        negate = self.keyword("not")
        if self.keyword("in"):
            self.expect("(")
            values = [self.literal(type_)]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                values.append(self.literal(type_))
            self.expect(")")
            wanted = set(values)
            return lambda row: (_key(row.get(column), type_) in wanted) != negate
        if self.keyword("like"):
            pattern = self.take()
            if pattern.kind != "text":
                raise _malformed(f"LIKE takes a quoted pattern (character {pattern.at + 1})")
            regex = _like(_unquote(pattern.text))
            return lambda row: (
                (row.get(column) is not None and bool(regex.fullmatch(str(row.get(column)))))
                != negate
            )
        if negate:
            raise _malformed("NOT here must be followed by IN or LIKE")
        if self.keyword("is"):
            negate = self.keyword("not")
            if not self.keyword("null"):
                raise _malformed("IS must be followed by NULL or NOT NULL")
            return lambda row: (row.get(column) in (None, "")) != negate
        op = self.take()
        if op.kind != "op":
            raise _malformed(f"expected a comparison after {column!r}, found {op.text!r}")
        value = self.literal(type_)
        if value is None:  # '' : an empty cell, for = and != only
            if op.text not in ("=", "!=", "<>"):
                raise CriteriaError(7327, f"Empty text can't be compared with {op.text}.")
            empty = op.text == "="
            return lambda row: (_key(row.get(column), type_) is None) == empty
        compare = _COMPARISONS[op.text]
        return lambda row: _compare(_key(row.get(column), type_), value, compare)

    def column(self) -> str:
        token = self.take()
        if token.kind == "word" and self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
            if token.text.lower() in AGGREGATES:
                raise CriteriaError(
                    7333, f"Aggregate function {token.text} is not allowed in criteria."
                )
            raise _malformed(f"function {token.text} is not supported here")
        if token.kind != "column":
            raise _malformed(
                f"expected a column name in double quotes at character {token.at + 1}, "
                f"found {token.text!r}"
            )
        name = _unquote(token.text)
        following = self.peek()
        if following is not None and following.text == ".":
            self.take()
            inner = self.take()
            if inner.kind != "column":
                raise _malformed(f"expected a column name after {token.text}.")
            if name.lower() not in self.tables:
                raise CriteriaError(7332, f"Table {name} used in the criteria is not in the view.")
            name = _unquote(inner.text)
        if name not in self.columns:
            raise CriteriaError(7330, f"Column {name} used in the criteria does not exist.")
        return name

    def literal(self, type_: str) -> Any:
        token = self.take()
        if token.kind == "column":
            raise _malformed(f"{token.text} is a column name; text values take single quotes")
        if token.kind not in ("text", "number"):
            raise _malformed(f"expected a value at character {token.at + 1}")
        text = _unquote(token.text) if token.kind == "text" else token.text
        try:
            return _key(text, type_, literal=True)
        except ValueError:
            raise CriteriaError(
                7327, f"The value {token.text} can't be compared with a {type_} column."
            ) from None


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
    "<>": lambda c: c != 0,
    "<": lambda c: c < 0,
    ">": lambda c: c > 0,
    "<=": lambda c: c <= 0,
    ">=": lambda c: c >= 0,
}


def _compare(left: Any, right: Any, compare: Callable[[int], bool]) -> bool:
    if left is None:
        return False  # an empty cell matches no comparison, as in SQL
    return compare((left > right) - (left < right))


def _key(value: Any, type_: str, *, literal: bool = False) -> Any:
    """A cell or a literal as the column's type compares it; ValueError for a literal that
    doesn't fit the type."""
    if value is None or value == "":
        return None
    if type_ in ("integer", "decimal"):
        return float(value)
    if type_ == "date":
        return _date(str(value)) if literal else str(value)
    return str(value).lower()


def _date(text: str) -> str:
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d-%b-%Y"):
        try:
            parsed = datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
        return parsed.strftime("%Y-%m-%d %H:%M:%S" if "%H" in pattern else "%Y-%m-%d")
    raise ValueError(text)


def _unquote(token: str) -> str:
    quote = token[0]
    return token[1:-1].replace(quote * 2, quote)


def _like(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.I | re.S)
