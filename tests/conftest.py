"""Fixtures shared by every test module."""

from __future__ import annotations

import os
import textwrap
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[[str], Path]:
    """Write YAML text (dedented) to a jobs.yaml in a fresh directory and return its path."""

    def write(text: str, name: str = "jobs.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


# -- a real PostgreSQL for the shared state store ---------------------------------------------
# One server for the whole session (pgserver starts one in well under a second from its own
# binaries; ZSYNC_TEST_POSTGRES_URL points at an existing one instead), and a fresh schema per
# test, named in the URL's search_path: tests never see each other's tables.

POSTGRES_URL_VARIABLE = "ZSYNC_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class PostgresServer:
    url: str  # the admin's URL (the postgres database)
    data_dir: Path | None  # pgserver's data directory; None for a server given by URL


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    given = os.environ.get(POSTGRES_URL_VARIABLE)
    if given:
        yield PostgresServer(given, None)
        return
    pgserver = pytest.importorskip("pgserver")
    # Run as root, pgserver runs the server as a `pgserver` system user it creates: the data
    # directory's parents must be traversable by it (it widens them itself).
    data = tmp_path_factory.mktemp("pg") / "data"
    server = pgserver.get_server(data, cleanup_mode="stop")
    try:
        yield PostgresServer(server.get_uri(), data)
    finally:
        server.cleanup()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of an empty schema of its own on the session's server."""
    psycopg = pytest.importorskip("psycopg")
    schema = f"zsync_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server.url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_server.url else "?"
    yield f"{postgres_server.url}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(postgres_server.url, autocommit=True) as db:
        db.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def wrong_password_url(postgres_server: PostgresServer, postgres_url: str) -> str:
    """A URL whose password the server refuses. pgserver's server trusts every local user,
    so this adds a role that must give its password (scram-sha-256) and gives it another."""
    psycopg = pytest.importorskip("psycopg")
    parts = urllib.parse.urlsplit(postgres_url)
    if postgres_server.data_dir is None:  # a real server: its own user, the wrong password
        user = parts.username or "postgres"
        netloc = f"{user}:{WRONG_PASSWORD}@{parts.hostname or ''}"
        netloc += f":{parts.port}" if parts.port else ""
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    hba = postgres_server.data_dir / "pg_hba.conf"
    if "zsync_password_only" not in hba.read_text():
        hba.write_text(
            "local all zsync_password_only scram-sha-256\n"
            "host all zsync_password_only all scram-sha-256\n" + hba.read_text()
        )
        with psycopg.connect(postgres_server.url, autocommit=True) as db:
            db.execute("CREATE ROLE zsync_password_only LOGIN PASSWORD 'the-right-one'")
            db.execute("SELECT pg_reload_conf()")
    netloc = f"zsync_password_only:{WRONG_PASSWORD}@{parts.hostname or ''}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


WRONG_PASSWORD = "Wr0ng-S3cret-pw"
