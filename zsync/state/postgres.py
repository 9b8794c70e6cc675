"""The shared state store: PostgreSQL, for runners on several machines (or orchestrators)
that must see the same runs, resume each other's, and never import a file twice.

Same semantics as the SQLite store, row for row; the differences are the driver's:

- A connection per thread. The recorder's writer thread commits while the manifest renderer
  reads in another; on one shared connection a read would run inside the writer's open
  transaction, and a lock around it would make every read wait behind a commit's round trip.
  A pool (psycopg_pool) would be one more dependency for the handful of threads a run uses.
- The run lock is a row, taken with an upsert that locks it (two processes can never both
  hold it), and renewed while the run goes on: a holder on another host can't be checked
  for its pid, so one that stopped renewing for LOCK_TTL seconds is taken as gone (one on
  this host is still checked by its pid, as with SQLite).
- The schema is zsync's own, versioned and migrated on first use (postgres_schema.py).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from zsync import redact
from zsync.errors import StateError
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
from zsync.state.postgres_schema import check_version, current_version, migrate
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
    LOCK_TTL,
    Change,
    DurationPut,
    HeldLock,
    JobPut,
    LockResult,
    RemotePut,
    RunPut,
    WatermarkPut,
)
from zsync.state.urls import described, secrets_of

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
# A commit that lost a deadlock (two runs trimming the same durations) is simply tried again.
ATTEMPTS = 3


def compact(value: Any) -> str:
    """JSON as the store keeps it: without spaces, as SQLite's JSON functions render it, so
    jobs_text splices the stored text into the same bytes SQLite's store gives."""
    return json.dumps(value, separators=(",", ":"))


class NoStateYet(StateError):
    """A database zsync never wrote to, opened to read only (zsync status, zsync runs)."""


class PostgresStore:
    """`PostgresStore(url)`; safe to use from several threads, each on its own connection.
    `read_only=True` (zsync status, zsync runs) creates nothing and writes nothing: its
    sessions are read-only."""

    def __init__(self, url: str, *, read_only: bool = False, lock_ttl: float = LOCK_TTL) -> None:
        redact.add(*secrets_of(url))
        self.url = url
        self.where = described(url)
        self.read_only = read_only
        self.lock_ttl = lock_ttl
        self._local = threading.local()
        self._connections: list[psycopg.Connection] = []
        self._guard = threading.Lock()
        try:
            db = self._connection()
            if read_only:
                found = current_version(db)
                if found == 0:
                    raise NoStateYet(f"{self.where} holds no zsync state yet (zsync run writes it)")
                check_version(found, self.where)
            else:
                migrate(db, self.where)
        except psycopg.Error as exc:
            self.close()
            raise self._failure(exc, opening=True) from exc
        except StateError:
            self.close()
            raise

    def _failure(self, exc: BaseException, *, opening: bool = False) -> StateError:
        # One line whatever the driver said, and never the password (the URL's or a query's).
        said = redact.text(" ".join(str(exc).split()))
        if opening:
            return StateError(f"can't open the state store {self.where}: {said}")
        return StateError(f"the state store {self.where} failed: {said}")

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection:
        db: psycopg.Connection | None = getattr(self._local, "db", None)
        if db is not None and (db.closed or db.broken):
            db = None  # the server restarted or the network dropped: a new one next time
        if db is None:
            try:
                given = conninfo_to_dict(self.url)
            except psycopg.Error as exc:
                raise StateError(f"the state store URL {self.where} doesn't parse: {exc}") from exc
            extra: dict[str, Any] = {"application_name": given.get("application_name", "zsync")}
            if "connect_timeout" not in given:
                extra["connect_timeout"] = CONNECT_TIMEOUT
            db = psycopg.connect(self.url, autocommit=True, **extra)
            if self.read_only:
                db.execute("SET default_transaction_read_only = on")
            self._local.db = db
            with self._guard:
                self._connections.append(db)
        return db

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        try:
            db = self._connection()
            with db.transaction():
                yield db
        except psycopg.Error as exc:
            raise self._failure(exc) from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise self._failure(exc) from exc

    def close(self) -> None:
        with self._guard:
            for db in self._connections:
                with suppress(psycopg.Error):
                    db.close()
            self._connections.clear()
        self._local = threading.local()

    # -- writes ------------------------------------------------------------------------------

    def apply(self, changes: Sequence[Change]) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._transaction() as db:
                    _apply(db, changes)
                return
            except StateError as exc:
                lost = isinstance(exc.__cause__, pg_errors.DeadlockDetected)
                if not lost or attempt == ATTEMPTS:
                    raise

    def acquire_lock(self, holder: LockHolder, alive: Callable[[LockHolder], bool]) -> LockResult:
        ours = compact(holder_to_dict(holder))
        with self._transaction() as db:
            # Inserts our row, or locks the one there until we commit: whoever comes second
            # waits here, then sees what the first decided.
            row = db.execute(
                """
                INSERT INTO zsync_locks (scope, holder) VALUES (%s, %s)
                ON CONFLICT (scope) DO UPDATE SET scope = excluded.scope
                RETURNING holder, now() - renewed_at > make_interval(secs => %s)
                """,
                (holder.scope, ours, self.lock_ttl),
            ).fetchone()
            assert row is not None
            if row[0] == ours:
                return LockResult(True, None)
            current = holder_from_dict(json.loads(row[0]))
            # This host checks its own processes by pid (as with SQLite); another host's
            # holder is gone once it stopped renewing.
            lapsed = bool(row[1]) and current.host != socket.gethostname()
            if alive(current) and not lapsed:
                return LockResult(False, current)
            db.execute(
                "UPDATE zsync_locks SET holder = %s, renewed_at = now() WHERE scope = %s",
                (ours, holder.scope),
            )
            return LockResult(True, current)

    def renew_lock(self, scope: str, run_id: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE zsync_locks SET renewed_at = now() "
                "WHERE scope = %s AND holder::json->>'run_id' = %s",
                (scope, run_id),
            )
            return cursor.rowcount == 1

    def release_lock(self, scope: str, run_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "DELETE FROM zsync_locks WHERE scope = %s AND holder::json->>'run_id' = %s",
                (scope, run_id),
            )

    def run_lock(self, scope: str) -> HeldLock | None:
        rows = self._read(
            "SELECT holder, extract(epoch FROM now() - renewed_at) FROM zsync_locks "
            "WHERE scope = %s",
            (scope,),
        )
        if not rows:
            return None
        holder, silence = rows[0]
        return HeldLock(holder_from_dict(json.loads(holder)), max(0.0, float(silence)))

    def end_run(self, run_id: str, outcome: Outcome, exit_code: int | None, at: str) -> None:
        run = self.run(run_id)
        if run is None:
            return
        self.apply([RunPut(replace(run, outcome=outcome, exit_code=exit_code, ended_at=at))])

    # -- reads -------------------------------------------------------------------------------

    def run(self, run_id: str) -> RunRecord | None:
        rows = self._read("SELECT record FROM zsync_runs WHERE run_id = %s", (run_id,))
        return run_from_dict(json.loads(rows[0][0])) if rows else None

    def runs(self, scope: str | None = None, limit: int | None = None) -> list[RunRecord]:
        where, params = ("WHERE scope = %s", [scope]) if scope is not None else ("", [])
        rows = self._read(
            f"SELECT record FROM zsync_runs {where} "
            "ORDER BY started_at DESC, run_id DESC LIMIT %s",  # LIMIT NULL: all of them
            [*params, limit],
        )
        return [run_from_dict(json.loads(r[0])) for r in rows]

    def unfinished(self, scope: str) -> list[RunRecord]:
        rows = self._read(
            "SELECT record FROM zsync_runs WHERE scope = %s AND outcome = 'running' "
            "ORDER BY started_at",
            (scope,),
        )
        return [run_from_dict(json.loads(r[0])) for r in rows]

    def jobs(self, run_id: str) -> dict[str, JobRecord]:
        return jobs_from_rows(
            self._read(
                "SELECT name, record FROM zsync_jobs WHERE run_id = %s ORDER BY seq", (run_id,)
            ),
            self._read(
                "SELECT job, record FROM zsync_remote_jobs WHERE run_id = %s ORDER BY job, idx",
                (run_id,),
            ),
        )

    def jobs_text(self, run_id: str) -> str:
        # Built by the server from the stored text (compact JSON, never re-encoded): each
        # job's record with `"remote_jobs":[...]` spliced in before its closing brace, as
        # SQLite's json_set puts a new key last. No Python object per job (see sqlite.py).
        rows = self._read(
            r"""
            SELECT string_agg(
                to_json(j.name)::text || ': ' || left(j.record, -1) || ',"remote_jobs":['
                    || COALESCE((SELECT string_agg(r.record, ',' ORDER BY r.idx)
                                 FROM zsync_remote_jobs r
                                 WHERE r.run_id = j.run_id AND r.job = j.name), '')
                    || ']}',
                E',\n    ' ORDER BY j.seq)
            FROM zsync_jobs j WHERE j.run_id = %s
            """,
            (run_id,),
        )
        body = rows[0][0] if rows else None
        return f"{{\n    {body}\n  }}" if body else "{}"

    def job_counts(self, run_id: str) -> dict[str, int]:
        rows = self._read(
            "SELECT status, COUNT(*) FROM zsync_jobs WHERE run_id = %s GROUP BY status", (run_id,)
        )
        return {status: int(n) for status, n in rows}

    def landed_imports(
        self, sha256: str, target: str, mode: str, *, besides: str
    ) -> list[LandedImport]:
        same = (
            "j.import_sha256 = %s AND j.import_target = %s AND j.import_mode = %s "
            "AND j.run_id != %s"
        )
        params = (sha256, target, mode, besides)
        rows = self._read(
            "SELECT j.run_id, j.name, j.status, j.record "
            f"FROM zsync_jobs j JOIN zsync_runs runs USING (run_id) WHERE {same} "
            "ORDER BY runs.started_at DESC",
            params,
        )
        remotes = self._read(
            "SELECT r.run_id, r.job, r.record FROM zsync_remote_jobs r "
            f"JOIN zsync_jobs j ON j.run_id = r.run_id AND j.name = r.job WHERE {same}",
            params,
        )
        return landed_from_rows(rows, remotes)

    def watermarks(self, keys: Sequence[str]) -> dict[str, str]:
        rows = self._read(
            "SELECT key, value FROM zsync_watermarks WHERE key = ANY(%s)",
            (list(dict.fromkeys(keys)),),
        )
        return {key: value for key, value in rows}

    # -- shared by the runners on this store (zsync.state.sharing) ---------------------------
    # Takes of one key are serialised by a transaction-scoped advisory lock on it: counting
    # and inserting can't interleave between runners.

    def take_slot(self, key: str, cap: int, lease: str, holder: str, ttl: float) -> bool:
        with self._transaction() as db:
            now = _locked_now(db, "slot", key)
            db.execute("DELETE FROM zsync_slot_leases WHERE key = %s AND expires <= %s", (key, now))
            row = db.execute(
                "SELECT count(*) FROM zsync_slot_leases WHERE key = %s", (key,)
            ).fetchone()
            if row is not None and row[0] >= cap:
                return False
            db.execute(
                "INSERT INTO zsync_slot_leases (lease, key, holder, expires) "
                "VALUES (%s, %s, %s, %s)",
                (lease, key, holder, now + ttl),
            )
            return True

    def renew_slots(self, leases: Sequence[str], ttl: float) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE zsync_slot_leases SET expires = "
                "extract(epoch FROM clock_timestamp()) + %s WHERE lease = ANY(%s)",
                (ttl, list(leases)),
            )

    def free_slot(self, lease: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM zsync_slot_leases WHERE lease = %s", (lease,))

    def slots_taken(self, key: str) -> int:
        rows = self._read(
            "SELECT count(*) FROM zsync_slot_leases WHERE key = %s "
            "AND expires > extract(epoch FROM clock_timestamp())",
            (key,),
        )
        return int(rows[0][0])

    def take_call(self, key: str, calls: int, per: float, call: str) -> float:
        with self._transaction() as db:
            now = _locked_now(db, "calls", key)
            db.execute(
                "DELETE FROM zsync_limit_calls WHERE key = %s AND (ended + %s <= %s OR "
                "(ended IS NULL AND started + %s <= %s))",
                (key, per, now, STALE_CALL, now),
            )
            rows = db.execute(
                "SELECT ended FROM zsync_limit_calls WHERE key = %s ORDER BY ended", (key,)
            ).fetchall()
            ended = [float(row[0]) for row in rows if row[0] is not None]
            wait = wait_for_room(len(rows) - len(ended), ended, calls, per, now)
            if wait <= 0:
                db.execute(
                    "INSERT INTO zsync_limit_calls (call, key, started) VALUES (%s, %s, %s)",
                    (call, key, now),
                )
            return wait

    def end_call(self, call: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE zsync_limit_calls SET ended = extract(epoch FROM clock_timestamp()) "
                "WHERE call = %s",
                (call,),
            )

    def shared_token(self, key: str) -> tuple[str, float] | None:
        # The expiry the runner wrote is its own clock's; the token's lifetime is Zoho's.
        rows = self._read("SELECT token, expires FROM zsync_access_tokens WHERE key = %s", (key,))
        return (str(rows[0][0]), float(rows[0][1])) if rows else None

    def put_shared_token(self, key: str, token: str, expires: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO zsync_access_tokens (key, token, expires) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET token = excluded.token, "
                "expires = excluded.expires",
                (key, token, expires),
            )

    def durations(self, keys: Sequence[str]) -> dict[str, list[tuple[float | None, float]]]:
        found: dict[str, list[tuple[float | None, float]]] = {}
        rows = self._read(
            "SELECT key, lower, upper FROM zsync_durations WHERE key = ANY(%s) ORDER BY seq DESC",
            (list(dict.fromkeys(keys)),),
        )
        for key, lower, upper in rows:
            found.setdefault(key, []).append((lower, upper))
        return found


# -- one kind of change each -----------------------------------------------------------------
# A batch is written kind by kind, each kind in one executemany (pipelined: one round trip,
# not one per row, to a server that may be a network away). Kinds don't depend on each other;
# within a kind the batch's order is kept, so jobs are numbered in the order first queued.


def _apply(db: psycopg.Connection, changes: Sequence[Change]) -> None:
    by_kind: dict[type, list[Any]] = {}
    for change in changes:
        by_kind.setdefault(type(change), []).append(change)
    with db.cursor() as cursor:
        for kind, (sql, params) in _WRITES.items():
            if kind in by_kind:
                cursor.executemany(sql, [params(change) for change in by_kind[kind]])
        kept = list(dict.fromkeys(change.key for change in by_kind.get(DurationPut, ())))
        if kept:
            # Keep the newest few of each key: the table stays small however many runs go by.
            cursor.executemany(
                "DELETE FROM zsync_durations WHERE key = %s AND seq <= ("
                "SELECT seq FROM zsync_durations WHERE key = %s "
                "ORDER BY seq DESC LIMIT 1 OFFSET %s)",
                [(key, key, DURATIONS_KEPT) for key in kept],
            )


def _locked_now(db: psycopg.Connection, what: str, key: str) -> float:
    """Serialise this transaction with every other on `key`; the database's time now."""
    row = db.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)), "
        "extract(epoch FROM clock_timestamp())",
        (f"zsync {what} {key}",),
    ).fetchone()
    assert row is not None
    return float(row[1])


def _run_params(change: RunPut) -> tuple[Any, ...]:
    run = change.run
    return (run.run_id, run.scope, run.started_at, run.outcome, compact(run_to_dict(run)))


def _job_params(change: JobPut) -> tuple[Any, ...]:
    record = change.record
    imported = record.imported
    key = (imported.sha256, imported.target, imported.mode) if imported else (None, None, None)
    return (
        change.run_id,
        change.name,
        record.status,
        compact(job_to_dict(record)),
        *(value or None for value in key),
    )


def _remote_params(change: RemotePut) -> tuple[Any, ...]:
    remote = change.remote
    return (
        change.run_id,
        change.job,
        change.position,
        remote.id,
        remote.refused,
        compact(remote_to_dict(remote)),
    )


def _duration_params(change: DurationPut) -> tuple[Any, ...]:
    return (change.key, change.lower, change.upper, change.at)


_WRITES: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]]] = {
    RunPut: (
        """
        INSERT INTO zsync_runs (run_id, scope, started_at, outcome, record)
        VALUES (%s, %s, %s, %s, %s)
        ON CONFLICT (run_id) DO UPDATE SET
            scope = excluded.scope, started_at = excluded.started_at,
            outcome = excluded.outcome, record = excluded.record
        """,
        _run_params,
    ),
    JobPut: (
        # The upsert keeps the row's seq: the job's place in the run's order.
        """
        INSERT INTO zsync_jobs
            (run_id, name, status, record, import_sha256, import_target, import_mode)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (run_id, name) DO UPDATE SET
            status = excluded.status, record = excluded.record,
            import_sha256 = excluded.import_sha256, import_target = excluded.import_target,
            import_mode = excluded.import_mode
        """,
        _job_params,
    ),
    RemotePut: (
        """
        INSERT INTO zsync_remote_jobs (run_id, job, idx, remote_id, refused, record)
        VALUES (%s, %s, %s, %s, %s, %s)
        ON CONFLICT (run_id, job, idx) DO UPDATE SET
            remote_id = excluded.remote_id, refused = excluded.refused, record = excluded.record
        """,
        _remote_params,
    ),
    DurationPut: (
        "INSERT INTO zsync_durations (key, lower, upper, at) VALUES (%s, %s, %s, %s)",
        _duration_params,
    ),
    WatermarkPut: (
        """
        INSERT INTO zsync_watermarks (key, value, run_id, at) VALUES (%s, %s, %s, %s)
        ON CONFLICT (key) DO UPDATE SET
            value = excluded.value, run_id = excluded.run_id, at = excluded.at
        """,
        lambda change: (change.key, change.value, change.run_id, change.at),
    ),
}
