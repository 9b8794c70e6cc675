"""Analytics' SQL export and query tables, run by SQLite over the workspace's tables.

Zoho's CloudSQL takes one read-only SELECT (Analytics CloudSQL "Supported SQL" page); it quotes
identifiers with double quotes and strings with single quotes, as SQLite does. `Database` copies
the workspace's Analytics tables into one private in-memory SQLite database, reloads a table
only when its `Table.version` moved (an import stored rows), and runs each query there:

- one statement, starting SELECT or WITH; an authorizer allows reading tables and calling
  functions and nothing else (no writes, ATTACH, PRAGMA, temp objects, SQLite's own tables);
  `PRAGMA query_only` backs it up;
- a progress handler aborts a query that runs longer than `Limits.seconds` (real time), and
  results past `Limits.rows` rows or about `Limits.bytes` bytes of CSV are refused;
- failures answer Zoho's codes (below); a query SQLite can run succeeds.

Error codes (HTTP 400 [guess]): a syntax error, a statement that is not a SELECT, or anything
else SQLite refuses → 7403 "Parsing of SQL query failed." (v2 Bulk API error-codes page); an
unknown table → 7105 "View name specified in the Workspace does not exist." (v2 sharing API and
v1 common error-codes pages [doc?: the bulk page has no table code]); an unknown column → 7395
"Column not present in the workspace." (v2 common error-codes page [doc?]); too slow or too big
→ 8516 "Invalid value passed in the mentioned parameter." (v2 data API error-codes page [guess:
no public code for either]).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zsync.emulator import sql_functions
from zsync.emulator.tables import Table

PARSE_FAILED = 7403
UNKNOWN_TABLE = 7105
UNKNOWN_COLUMN = 7395
TOO_COSTLY = 8516

# Column types of the emulator's Analytics tables -> SQLite column affinity. Dates stay TEXT:
# ISO text compares and sorts correctly and is what SQLite's date functions read; a declared
# DATE would get NUMERIC affinity and turn a bare year into a number.
AFFINITY = {
    "integer": "INTEGER",
    "decimal": "REAL",
    "currency": "REAL",
    "date": "TEXT",
    "datetime": "TEXT",
    "text": "TEXT",
}
# Functions that reach outside the database (extensions) or are SQLite internals.
BLOCKED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"}
ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE}


class SqlError(ValueError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Limits:
    seconds: float = 10.0  # real seconds one query may run
    rows: int = 1_000_000  # result rows
    bytes: int = 100 * 1024 * 1024  # about this much CSV (the import file cap [seed 001])


@dataclass
class LoadStats:
    tables: int = 0  # tables (re)loaded since the database was made
    rows: int = 0
    seconds: float = 0.0


_LEX = re.compile(
    r"""
    (?P<str>'(?:[^']|'')*'?)
  | (?P<line>--[^\n]*)
  | (?P<block>/\*.*?(?:\*/|\Z))
  | (?P<dq>"(?:[^"]|"")*"?)
  | (?P<other>`(?:[^`]|``)*`?|\[[^\]]*\]?|[^'"`\[/-]+|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def prepare(query: str) -> tuple[str, dict[str, str]]:
    """The query with "double-quoted" identifiers re-quoted as `backticks`, and a map back.

    SQLite reads a double-quoted name that matches no column as a string (its "DQS" misfeature),
    so `SELECT "Nope" FROM Sales` would succeed; Zoho answers that the column does not exist.
    Backticks are never strings. Raises SqlError unless the query is one SELECT or WITH.
    """
    out: list[str] = []
    back: dict[str, str] = {}
    first: str | None = None
    for match in _LEX.finditer(query):
        kind, text = match.lastgroup, match.group()
        if kind == "dq" and len(text) >= 2 and text.endswith('"'):
            name = text[1:-1].replace('""', '"')
            quoted = "`" + name.replace("`", "``") + "`"
            back[quoted] = text
            text = quoted
        if first is None and kind not in ("line", "block") and text.strip():
            first = text.strip()
        out.append(text)
    word = re.match(r"[A-Za-z]+", first or "")
    if word is None or word.group().upper() not in ("SELECT", "WITH"):
        raise SqlError(PARSE_FAILED, "Only a single SELECT statement is allowed.")
    return "".join(out), back


def _width(value: Any) -> int:
    """About how many CSV bytes a value takes (a cheap bound, not the exact rendering)."""
    return len(value) + 1 if isinstance(value, str) else 12


class Database:
    """One workspace's tables in SQLite, reloaded table by table as their versions move."""

    def __init__(self, now: Callable[[], float], limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.stats = LoadStats()
        self._now = now
        # The emulator's handlers share one thread, but tests and ground truth may call from
        # another; one connection, one query at a time.
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._loaded: dict[str, int] = {}  # table name -> the Table.version it holds
        self._deadline = math.inf
        self._denied: tuple[str, str] | None = None

    def run(self, query: str, tables: Mapping[str, Table]) -> tuple[list[str], list[list[Any]]]:
        """(header, rows) of `query` over `tables` (the workspace's tables by name)."""
        text, back = prepare(query)
        with self._lock:
            conn = self._sync(tables)
            return self._execute(conn, text, back)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            self._conn, self._loaded = None, {}

    # -- loading -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        sql_functions.register(conn, self._now)
        # Nothing the user writes may grow one value past 10 MB (randomblob(1e9) and friends).
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 10_000_000)
        conn.set_progress_handler(self._progress, 1_000)
        return conn

    def _sync(self, tables: Mapping[str, Table]) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        stale = {n: t for n, t in tables.items() if self._loaded.get(n) != t.version}
        gone = [n for n in self._loaded if n not in tables]
        if not stale and not gone:
            return conn
        conn.execute("PRAGMA query_only = OFF")
        try:
            for name in gone:
                conn.execute(f"DROP TABLE IF EXISTS {_quote(name)}")
                del self._loaded[name]
            for name, table in stale.items():
                self._load(conn, name, table)
        finally:
            conn.execute("PRAGMA query_only = ON")
        return conn

    def _load(self, conn: sqlite3.Connection, name: str, table: Table) -> None:
        started = time.perf_counter()
        types = {f.api_name: f.type for f in table.module.fields}
        columns: list[str] = []
        for column in table.columns:  # SQLite names ignore case; keep the first spelling
            if column.lower() not in {c.lower() for c in columns}:
                columns.append(column)
        declared = ", ".join(f"{_quote(c)} {AFFINITY.get(types.get(c, ''), '')}" for c in columns)
        insert = f"INSERT INTO {_quote(name)} VALUES ({', '.join('?' * len(columns))})"
        count = 0

        def cells() -> Any:
            nonlocal count
            for row in table.rows():  # streamed: no list of a million dicts
                count += 1
                yield tuple(_cell(row.get(c)) for c in columns)

        conn.execute("BEGIN")
        try:
            conn.execute(f"DROP TABLE IF EXISTS {_quote(name)}")
            conn.execute(f"CREATE TABLE {_quote(name)} ({declared})")
            conn.executemany(insert, cells())
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._loaded.pop(name, None)
            raise
        self._loaded[name] = table.version
        self.stats.tables += 1
        self.stats.rows += count
        self.stats.seconds += time.perf_counter() - started

    # -- querying ------------------------------------------------------------------------
    def _progress(self) -> int:
        return 1 if time.monotonic() > self._deadline else 0

    def _authorize(
        self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
    ) -> int:
        if action in ALLOWED_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:  # db is "main", or None for a CTE or COUNT(*)
            if (arg1 or "").lower().startswith("sqlite_"):
                self._denied = ("table", arg1 or "")
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() not in BLOCKED_FUNCTIONS:
            return sqlite3.SQLITE_OK
        self._denied = ("action", str(arg2 if action == sqlite3.SQLITE_FUNCTION else action))
        return sqlite3.SQLITE_DENY

    def _execute(
        self, conn: sqlite3.Connection, text: str, back: dict[str, str]
    ) -> tuple[list[str], list[list[Any]]]:
        limits = self.limits
        self._denied = None
        cursor = conn.cursor()
        conn.set_authorizer(self._authorize)
        self._deadline = time.monotonic() + limits.seconds
        try:
            cursor.execute(text)
            header = [_unquote(d[0], back) for d in cursor.description or ()]
            rows: list[list[Any]] = []
            size = 0
            while batch := cursor.fetchmany(2_000):
                rows.extend(list(r) for r in batch)
                size += sum(_width(v) for r in batch for v in r)
                if len(rows) > limits.rows or size > limits.bytes:
                    raise SqlError(
                        TOO_COSTLY,
                        f"The query result is too large (more than {limits.rows:,} rows or "
                        f"{limits.bytes // (1024 * 1024)} MB).",
                    )
            return header, rows
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        finally:
            self._deadline = math.inf
            cursor.close()
            conn.set_authorizer(None)

    def _translate(self, exc: sqlite3.Error) -> SqlError:
        message = str(exc)
        if self._denied is not None:
            kind, what = self._denied
            if kind == "table":
                return SqlError(UNKNOWN_TABLE, f"Table {what} is not present in the workspace.")
            return SqlError(PARSE_FAILED, "A query may only read the workspace's tables.")
        if message == "interrupted":
            limit = self.limits.seconds
            return SqlError(TOO_COSTLY, f"The query ran longer than the {limit:g} s limit.")
        if message.startswith("no such table:"):
            name = message.partition(":")[2].strip()
            return SqlError(UNKNOWN_TABLE, f"Table {name} is not present in the workspace.")
        if message.startswith("no such column:"):
            name = message.partition(":")[2].strip()
            return SqlError(UNKNOWN_COLUMN, f"Column {name} is not present in the workspace.")
        return SqlError(PARSE_FAILED, f"Parsing of SQL query failed: {message}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _unquote(name: str, back: dict[str, str]) -> str:
    """A header as the user spelled it: undo `prepare`'s re-quoting inside expressions."""
    for quoted, original in back.items():
        if quoted in name:
            name = name.replace(quoted, original)
    return name


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value
