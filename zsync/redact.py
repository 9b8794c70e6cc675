"""Secrets out of everything zsync prints or records: each one shows as `***`.

Secrets are every value a job file takes from the environment (`${VAR}`: `watching` sees them
as the file is interpolated), every connection's auth values (`add_auth`) and every access
token (`add`, called as one arrives). URLs also lose their userinfo. The boundaries pass what
they print or record through `text` or `scrub`: the CLI's errors, progress lines, what
`plan`, `run`, `status` and `runs` print, and every record given to the state store (so the
manifest, rendered from the store, never holds one either).

One registry for the process: tokens arrive deep in the HTTP layer, far from the places
that print.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from zsync.spec.model import Spec

MASK = "***"
# Shorter values are never registered: "eu", "1" or "true" would turn every place they
# happen to occur in ordinary text into ***, and hide nothing worth hiding.
MIN_LENGTH = 4
# The userinfo of a URL (https://user:pass@host): everything between :// and an @ that
# comes before the host ends.
_USERINFO = re.compile(r"(?<=://)[^/?#@\s\"'<>]+@")

T = TypeVar("T")

_guard = threading.Lock()
_secrets: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None
_fields: dict[type, tuple[str, ...]] = {}  # a dataclass's init fields, by class
_ATOMS = frozenset({int, float, bool})


def add(*values: str | None) -> None:
    """Show each value as `***` from now on, wherever it appears (values shorter than
    MIN_LENGTH, and None, are left out). Safe to call from any thread."""
    forms = {form for v in values if v and len(v) >= MIN_LENGTH for form in _written(v)}
    with _guard:
        if forms <= _secrets:
            return
        _set(_secrets | forms)


def add_auth(spec: Spec) -> None:
    """Register every connection's client id, client secret and refresh token, and the state
    store URL's password, wherever they came from (the environment, or written in the file)."""
    for connection in spec.connections.values():
        auth = connection.auth
        add(auth.client_id, auth.client_secret, auth.refresh_token)
    if spec.state_url:
        from zsync.state.urls import secrets_of

        add(*secrets_of(spec.state_url))
    add(*_storage_secrets(spec.storage_options))


# Option names of s3fs, gcsfs and adlfs that hold credentials (key, secret, token,
# account_key, sas_token, connection_string, client_secret, password, credentials, ...).
_SECRET_OPTION = re.compile(r"key|secret|token|password|credential|connection_string|sas")


def _storage_secrets(options: Any, name: str = "") -> list[str]:
    """Values of `defaults.storage_options` (nested too) under a credential's name, written
    in the job file rather than taken from ${VAR} (those are registered as they are read)."""
    if isinstance(options, dict):
        return [v for key, value in options.items() for v in _storage_secrets(value, str(key))]
    if isinstance(options, list):
        return [v for value in options for v in _storage_secrets(value, name)]
    return [options] if isinstance(options, str) and _SECRET_OPTION.search(name.lower()) else []


def watching(env: Mapping[str, str]) -> Mapping[str, str]:
    """`env`, registering every value read from it. Handed to the job file's interpolation,
    it registers exactly the values the file took from the environment, as it takes them:
    the Spec itself no longer tells which of its values those were."""
    return _Watched(env)


def text(value: str) -> str:
    """`value` with every registered secret, and every URL's userinfo, replaced by `***`."""
    pattern = _pattern
    if pattern is not None:
        value = pattern.sub(MASK, value)
    if "@" in value:
        value = _USERINFO.sub(MASK + "@", value)
    return value


def scrub(value: T) -> T:
    """`value` with `text` applied to every string in it: in dataclasses (copied, not
    changed), tuples, lists and dicts (keys too); other values as they are."""
    return cast(T, _scrub(value))


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """What is registered inside the block is forgotten after it: a command's secrets don't
    outlive the command (in a test process, they would mask the next test's output)."""
    before = _secrets
    try:
        yield
    finally:
        with _guard:
            _set(before)


def _set(secrets: frozenset[str]) -> None:
    global _secrets, _pattern
    _secrets = secrets
    # Longest first: a secret that holds another is masked whole, not around the shorter one.
    ordered = sorted(secrets, key=len, reverse=True)
    _pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None


def _written(value: str) -> set[str]:
    """A value as it may be written where it shows: as is, inside JSON text (escaped, with or
    without non-ASCII escapes) and inside a URL or form body (percent-encoded)."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value, safe=""),
    }


def _scrub(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return text(value)
    if value is None or kind in _ATOMS:
        return value
    if kind is tuple or kind is list:
        items = [_scrub(item) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return kind(items)
    if kind is dict:
        return _scrub_dict(value)
    names = _fields.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            return value
        names = _fields[kind] = tuple(f.name for f in dataclasses.fields(value) if f.init)
    # Called for every record a run writes (a status answer is one): the common case, a
    # record with nothing to mask, builds nothing.
    changes = {}
    for name in names:
        old = getattr(value, name)
        if old is None or type(old) in _ATOMS:
            continue
        new = _scrub(old)
        if new is not old:
            changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value


def _scrub_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    changed = False
    for key, item in value.items():
        new_key = text(key) if isinstance(key, str) else key
        if new_key != key:
            # Two keys that differed only by a secret stay two entries.
            base, n = new_key, 2
            while new_key in out or new_key in value:
                new_key, n = f"{base} ({n})", n + 1
        new_item = _scrub(item)
        changed = changed or new_key is not key or new_item is not item
        out[new_key] = new_item
    return out if changed else value


class _Watched(Mapping[str, str]):
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def __getitem__(self, name: str) -> str:
        value = self._env[name]
        add(value)
        return value

    def __contains__(self, name: object) -> bool:  # asking doesn't read the value
        return name in self._env

    def __iter__(self) -> Iterator[str]:
        return iter(self._env)

    def __len__(self) -> int:
        return len(self._env)
