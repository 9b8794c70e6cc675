"""The embedded state store: one SQLite file (WAL), `.zsync/state.db` beside the job file.

Each change is one row written in a short transaction, so its cost doesn't grow with the
run. Every thread gets its own connection (SQLite connections aren't shared across threads);
WAL lets the manifest renderer read while the recorder writes, and `zsync status` read while
a run goes on in another process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from zsync.errors import StateError
from zsync.private import narrow, private_dir, private_file
from zsync.state.codec import (
    holder_from_dict,
    holder_to_dict,
    job_to_dict,
    jobs_from_rows,
    landed_from_rows,
    remote_to_dict,
    run_from_dict,
    run_to_dict,
)
from zsync.state.records import (
    JobRecord,
    LandedImport,
    LockHolder,
    Outcome,
    RunRecord,
)
from zsync.state.sharing import STALE_CALL, wait_for_room
from zsync.state.store import (
    DURATIONS_KEPT,
    Change,
    DurationPut,
    HeldLock,
    JobPut,
    LockResult,
    RemotePut,
    RunPut,
    WatermarkPut,
)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 64 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    started_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_scope ON runs (scope, started_at);
CREATE TABLE IF NOT EXISTS jobs (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    record TEXT NOT NULL,
    import_sha256 TEXT,
    import_target TEXT,
    import_mode TEXT,
    PRIMARY KEY (run_id, name)
);
CREATE INDEX IF NOT EXISTS jobs_by_import ON jobs (import_sha256, import_target, import_mode)
    WHERE import_sha256 IS NOT NULL;
CREATE TABLE IF NOT EXISTS remote_jobs (
    run_id TEXT NOT NULL,
    job TEXT NOT NULL,
    idx INTEGER NOT NULL,
    remote_id TEXT,
    refused TEXT,
    record TEXT NOT NULL,
    PRIMARY KEY (run_id, job, idx)
) WITHOUT ROWID;  -- one B-tree, not a table and an index: the most frequent write
CREATE TABLE IF NOT EXISTS locks (scope TEXT PRIMARY KEY, holder TEXT NOT NULL);
-- Added in a later zsync without a format change: an older zsync ignores the table.
CREATE TABLE IF NOT EXISTS durations (
    key TEXT NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    lower REAL,
    upper REAL NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS durations_by_key ON durations (key, seq);
-- What runners on one store share (zsync.state.sharing); an older zsync ignores them.
CREATE TABLE IF NOT EXISTS slot_leases (
    lease TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    holder TEXT NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS slot_leases_by_key ON slot_leases (key, expires);
CREATE TABLE IF NOT EXISTS limit_calls (
    call TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL
);
CREATE INDEX IF NOT EXISTS limit_calls_by_key ON limit_calls (key);
-- Only connections with auth.share_access_token write here.
CREATE TABLE IF NOT EXISTS access_tokens (
    key TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    expires REAL NOT NULL
);
-- Also added without a format change (an older zsync ignores it; IF NOT EXISTS creates it in
-- a file an older zsync wrote): one row per incremental export.
CREATE TABLE IF NOT EXISTS watermarks (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    run_id TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


class SqliteStore:
    """`SqliteStore(path)`; safe to use from several threads, each on its own connection.
    `read_only=True` (zsync status, zsync runs) opens an existing file without writing to it:
    a state dir on a read-only volume, or one a run is busy with, reads as well."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        if read_only:
            try:
                row = (
                    self._connection()
                    .execute("SELECT value FROM meta WHERE key = 'schema_version'")
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise StateError(f"can't open the state store {path}: {exc}") from exc
            self._check_version(row[0] if row else None)
            return
        # Only its owner reads the store: it names organisations, modules and hosts. SQLite
        # gives the -wal and -shm files the database file's mode when it creates them.
        try:
            private_dir(path.parent)
            private_file(path)
            for sibling in ("-wal", "-shm"):
                narrow(path.with_name(path.name + sibling))
        except OSError as exc:
            raise StateError(f"can't open the state store {path}: {exc}") from exc
        try:
            self._connection().executescript(SCHEMA)  # IF NOT EXISTS: idempotent, own commit
        except sqlite3.Error as exc:
            raise StateError(f"can't open the state store {path}: {exc}") from exc
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            self._check_version(row[0] if row else None)

    def _check_version(self, found: str | None) -> None:
        if found is not None and int(found) > SCHEMA_VERSION:
            raise StateError(
                f"{self.path} was written by a newer zsync (state format {found}; this zsync "
                f"reads up to {SCHEMA_VERSION}): upgrade zsync, or use another --state-dir"
            )

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection for the run's records."""
        return self._per_thread("db", self._open_records)

    def _open_records(self) -> sqlite3.Connection:
        # Read-only opens by URI so SQLite writes nothing, not even the WAL setting.
        where = f"{self.path.resolve().as_uri()}?mode=ro" if self.read_only else self.path
        db = self._connect(where, uri=self.read_only)
        # A run of 10,000 jobs keeps its rows in memory (the default is 2 MB): a change costs
        # the same in a big run as in a small one.
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if not self.read_only:
            _use_wal(db)
            # FULL: a committed intent survives a power cut, not only a killed process.
            db.execute("PRAGMA synchronous = FULL")
        return db

    def _connect(self, where: str | Path, *, uri: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(where, uri=uri, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return db

    def _per_thread(
        self, name: str, connect: Callable[[], sqlite3.Connection]
    ) -> sqlite3.Connection:
        """This thread's connection called `name`, opened the first time (SQLite connections
        aren't shared across threads), and closed by close()."""
        db: sqlite3.Connection | None = getattr(self._local, name, None)
        if db is None:
            try:
                db = connect()
            except sqlite3.Error as exc:
                raise StateError(f"can't open the state store {self.path}: {exc}") from exc
            setattr(self._local, name, db)
            with self._guard:
                self._connections.append(db)
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._within(self._connection()) as db:
            yield db

    @contextmanager
    def _within(self, db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A write transaction on `db`, rolled back if the block fails."""
        try:
            db.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway through
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StateError(f"the state store {self.path} failed: {exc}") from exc

    @contextmanager
    def _shared(self) -> Iterator[sqlite3.Connection]:
        """A transaction on the connection for leases and call logs: rows that matter only
        while runners run, so a commit needn't wait for the disk (synchronous=OFF, on this
        connection only: the run's records stay FULL)."""
        db = self._per_thread("shared", self._open_shared)
        with self._within(db) as within:
            yield within

    def _open_shared(self) -> sqlite3.Connection:
        db = self._connect(self.path)
        db.execute("PRAGMA synchronous = OFF")
        return db

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StateError(f"the state store {self.path} failed: {exc}") from exc

    def close(self) -> None:
        with self._guard:
            for db in self._connections:
                # Closing from another thread is allowed once no statement runs on it.
                with suppress(sqlite3.ProgrammingError):
                    db.close()
            self._connections.clear()
        self._local = threading.local()

    # -- writes ------------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change]) -> None:
        with self._transaction() as db:
            for change in changes:
                _APPLY[type(change)](db, change)

    def acquire_lock(self, holder: LockHolder, alive: Callable[[LockHolder], bool]) -> LockResult:
        with self._transaction() as db:
            row = db.execute("SELECT holder FROM locks WHERE scope = ?", (holder.scope,)).fetchone()
            current = holder_from_dict(json.loads(row[0])) if row else None
            if current is not None and alive(current):
                return LockResult(False, current)
            db.execute(
                "INSERT OR REPLACE INTO locks (scope, holder) VALUES (?, ?)",
                (holder.scope, json.dumps(holder_to_dict(holder))),
            )
            return LockResult(True, current)

    def renew_lock(self, scope: str, run_id: str) -> bool:
        # Every holder of a local file's lock is on this host: its pid says whether it lives.
        return True

    def release_lock(self, scope: str, run_id: str) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT holder FROM locks WHERE scope = ?", (scope,)).fetchone()
            if row and json.loads(row[0]).get("run_id") == run_id:
                db.execute("DELETE FROM locks WHERE scope = ?", (scope,))

    def run_lock(self, scope: str) -> HeldLock | None:
        rows = self._read("SELECT holder FROM locks WHERE scope = ?", (scope,))
        return HeldLock(holder_from_dict(json.loads(rows[0][0])), None) if rows else None

    # -- shared by the runners on this store --------------------------------------------------

    def take_slot(self, key: str, cap: int, lease: str, holder: str, ttl: float) -> bool:
        with self._shared() as db:
            now = time.time()
            db.execute("DELETE FROM slot_leases WHERE key = ? AND expires <= ?", (key, now))
            (taken,) = db.execute(
                "SELECT count(*) FROM slot_leases WHERE key = ?", (key,)
            ).fetchone()
            if taken >= cap:
                return False
            db.execute(
                "INSERT INTO slot_leases (lease, key, holder, expires) VALUES (?, ?, ?, ?)",
                (lease, key, holder, now + ttl),
            )
            return True

    def renew_slots(self, leases: Sequence[str], ttl: float) -> None:
        with self._shared() as db:
            expires = time.time() + ttl
            db.executemany(
                "UPDATE slot_leases SET expires = ? WHERE lease = ?",
                [(expires, lease) for lease in leases],
            )

    def free_slot(self, lease: str) -> None:
        with self._shared() as db:
            db.execute("DELETE FROM slot_leases WHERE lease = ?", (lease,))

    def slots_taken(self, key: str) -> int:
        rows = self._read(
            "SELECT count(*) FROM slot_leases WHERE key = ? AND expires > ?", (key, time.time())
        )
        return int(rows[0][0])

    def take_call(self, key: str, calls: int, per: float, call: str) -> float:
        with self._shared() as db:
            now = time.time()
            db.execute(
                "DELETE FROM limit_calls WHERE key = ? AND (ended + ? <= ? OR "
                "(ended IS NULL AND started + ? <= ?))",
                (key, per, now, STALE_CALL, now),
            )
            rows = db.execute(
                "SELECT ended FROM limit_calls WHERE key = ? ORDER BY ended", (key,)
            ).fetchall()
            ended = [row[0] for row in rows if row[0] is not None]
            wait = wait_for_room(len(rows) - len(ended), ended, calls, per, now)
            if wait <= 0:
                db.execute(
                    "INSERT INTO limit_calls (call, key, started) VALUES (?, ?, ?)",
                    (call, key, now),
                )
            return wait

    def end_call(self, call: str) -> None:
        with self._shared() as db:
            db.execute("UPDATE limit_calls SET ended = ? WHERE call = ?", (time.time(), call))

    def shared_token(self, key: str) -> tuple[str, float] | None:
        rows = self._read("SELECT token, expires FROM access_tokens WHERE key = ?", (key,))
        return (str(rows[0][0]), float(rows[0][1])) if rows else None

    def put_shared_token(self, key: str, token: str, expires: float) -> None:
        with self._shared() as db:
            db.execute(
                "INSERT OR REPLACE INTO access_tokens (key, token, expires) VALUES (?, ?, ?)",
                (key, token, expires),
            )

    def end_run(self, run_id: str, outcome: Outcome, exit_code: int | None, at: str) -> None:
        run = self.run(run_id)
        if run is None:
            return
        self.apply([RunPut(replace(run, outcome=outcome, exit_code=exit_code, ended_at=at))])

    # -- reads -------------------------------------------------------------------------------

    def run(self, run_id: str) -> RunRecord | None:
        rows = self._read("SELECT record FROM runs WHERE run_id = ?", (run_id,))
        return run_from_dict(json.loads(rows[0][0])) if rows else None

    def runs(self, scope: str | None = None, limit: int | None = None) -> list[RunRecord]:
        where, params = ("WHERE scope = ?", [scope]) if scope is not None else ("", [])
        rows = self._read(
            f"SELECT record FROM runs {where} ORDER BY started_at DESC, run_id DESC LIMIT ?",
            [*params, -1 if limit is None else limit],
        )
        return [run_from_dict(json.loads(r[0])) for r in rows]

    def unfinished(self, scope: str) -> list[RunRecord]:
        rows = self._read(
            "SELECT record FROM runs WHERE scope = ? AND outcome = 'running' ORDER BY started_at",
            (scope,),
        )
        return [run_from_dict(json.loads(r[0])) for r in rows]

    def jobs(self, run_id: str) -> dict[str, JobRecord]:
        return jobs_from_rows(
            self._read("SELECT name, record FROM jobs WHERE run_id = ? ORDER BY rowid", (run_id,)),
            self._read(
                "SELECT job, record FROM remote_jobs WHERE run_id = ? ORDER BY job, idx",
                (run_id,),
            ),
        )

    def jobs_text(self, run_id: str) -> str:
        # One statement builds the whole text in C (SQLite's JSON functions splice each job's
        # stored JSON with its remote jobs'): rendering a run of 10,000 jobs holds the GIL
        # for no Python object per job, so the event loop never waits on it.
        rows = self._read(
            """
            SELECT group_concat(
                json_quote(j.name) || ': ' || json_set(j.record, '$.remote_jobs', json(COALESCE(
                    (SELECT json_group_array(json(r.record)) FROM (
                        SELECT record FROM remote_jobs
                        WHERE run_id = j.run_id AND job = j.name ORDER BY idx) AS r),
                    '[]'))),
                char(44, 10, 32, 32, 32, 32))
            FROM (SELECT name, record, run_id FROM jobs WHERE run_id = ? ORDER BY rowid) AS j
            """,
            (run_id,),
        )
        body = rows[0][0] if rows else None
        return f"{{\n    {body}\n  }}" if body else "{}"

    def job_counts(self, run_id: str) -> dict[str, int]:
        rows = self._read(
            "SELECT status, COUNT(*) FROM jobs WHERE run_id = ? GROUP BY status", (run_id,)
        )
        return {status: int(n) for status, n in rows}

    def landed_imports(
        self, sha256: str, target: str, mode: str, *, besides: str
    ) -> list[LandedImport]:
        same = "j.import_sha256 = ? AND j.import_target = ? AND j.import_mode = ? AND j.run_id != ?"
        params = (sha256, target, mode, besides)
        rows = self._read(
            "SELECT j.run_id, j.name, j.status, j.record FROM jobs j JOIN runs USING (run_id) "
            f"WHERE {same} ORDER BY runs.started_at DESC",
            params,
        )
        remotes = self._read(
            "SELECT r.run_id, r.job, r.record FROM remote_jobs r "
            f"JOIN jobs j ON j.run_id = r.run_id AND j.name = r.job WHERE {same}",
            params,
        )
        return landed_from_rows(rows, remotes)

    def durations(self, keys: Sequence[str]) -> dict[str, list[tuple[float | None, float]]]:
        found: dict[str, list[tuple[float | None, float]]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's bound on parameters
            chunk = unique[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._read(
                f"SELECT key, lower, upper FROM durations WHERE key IN ({marks}) ORDER BY seq DESC",
                chunk,
            )
            for key, lower, upper in rows:
                found.setdefault(key, []).append((lower, upper))
        return found

    def watermarks(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's bound on parameters
            chunk = unique[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            try:
                rows = self._read(
                    f"SELECT key, value FROM watermarks WHERE key IN ({marks})", chunk
                )
            except StateError:
                if self.read_only:  # a file no zsync with watermarks has written yet
                    return {}
                raise
            found.update({key: value for key, value in rows})
        return found


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the file in WAL mode (a setting kept in the file). SQLite answers "database is
    locked" at once, without its busy handler, when another process holds a lock while this
    one changes the mode: runners started together on one new store met it. So the mode is
    read first (WAL already: nothing to change) and the change retried until the busy
    timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                # A file system without WAL support keeps the old mode, without an error:
                # the store works on in it, as SQLite does.
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _put_watermark(db: sqlite3.Connection, change: WatermarkPut) -> None:
    db.execute(
        "INSERT OR REPLACE INTO watermarks (key, value, run_id, at) VALUES (?, ?, ?, ?)",
        (change.key, change.value, change.run_id, change.at),
    )


def _put_duration(db: sqlite3.Connection, change: DurationPut) -> None:
    db.execute(
        "INSERT INTO durations (key, lower, upper, at) VALUES (?, ?, ?, ?)",
        (change.key, change.lower, change.upper, change.at),
    )
    # Keep the newest few of the key: the table stays small however many runs go by.
    db.execute(
        "DELETE FROM durations WHERE key = ? AND seq <= ("
        "SELECT seq FROM durations WHERE key = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
        (change.key, change.key, DURATIONS_KEPT),
    )


def _put_run(db: sqlite3.Connection, change: RunPut) -> None:
    run = change.run
    db.execute(
        "INSERT OR REPLACE INTO runs (run_id, scope, started_at, outcome, record) "
        "VALUES (?, ?, ?, ?, ?)",
        (run.run_id, run.scope, run.started_at, run.outcome, json.dumps(run_to_dict(run))),
    )


def _put_job(db: sqlite3.Connection, change: JobPut) -> None:
    record = change.record
    imported = record.imported
    key = (imported.sha256, imported.target, imported.mode) if imported else (None, None, None)
    # ON CONFLICT keeps the row (and its rowid: the job's place in the run's order).
    db.execute(
        """
        INSERT INTO jobs (run_id, name, status, record, import_sha256, import_target, import_mode)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, name) DO UPDATE SET
            status = excluded.status, record = excluded.record,
            import_sha256 = excluded.import_sha256, import_target = excluded.import_target,
            import_mode = excluded.import_mode
        """,
        (
            change.run_id,
            change.name,
            record.status,
            json.dumps(job_to_dict(record)),
            *(value or None for value in key),
        ),
    )


def _put_remote(db: sqlite3.Connection, change: RemotePut) -> None:
    remote = change.remote
    db.execute(
        # An upsert, not INSERT OR REPLACE: it updates the row in place instead of deleting
        # and inserting it again (half the cost, on every status answer).
        """
        INSERT INTO remote_jobs (run_id, job, idx, remote_id, refused, record)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, job, idx) DO UPDATE SET
            remote_id = excluded.remote_id, refused = excluded.refused, record = excluded.record
        """,
        (
            change.run_id,
            change.job,
            change.position,
            remote.id,
            remote.refused,
            json.dumps(remote_to_dict(remote)),
        ),
    )


_APPLY: dict[type, Callable[[sqlite3.Connection, Any], None]] = {
    RunPut: _put_run,
    JobPut: _put_job,
    RemotePut: _put_remote,
    DurationPut: _put_duration,
    WatermarkPut: _put_watermark,
}
