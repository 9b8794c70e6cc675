"""Ctrl-C (SIGINT) and SIGTERM in the `zsync` command: exit 130 or 143 at any moment, never
with a traceback.

What the first signal does depends on where the process is:

- while the CLI's modules load (`quiet_while_loading`), and while a command's own modules
  load when it starts (`loading`): nothing has happened yet, so the process ends there and
  then;
- in a command's own code (`raise_on_signals`): `Interrupted` is raised, and the CLI turns it
  into the exit code;
- in `zsync run`'s event loop (`RunInterrupts`): until the run holds its lock, the run is
  simply cancelled; from then on the signal is kept until the run's own handler takes it
  (`handled_by`): the scheduler stops, and the run is recorded interrupted. A signal that
  comes after that handler is done only sets the exit code.

A second signal ends the process at once, quietly; a run it cuts short is marked abandoned by
the next run of its job file.

cli.py imports this before anything else, so it imports as little as it can: until its
handlers are in place a signal kills the process with Python's own traceback. `typing` alone
would add 4 ms to that window (mypy reads a TYPE_CHECKING of our own the same way).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from types import FrameType
    from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# errors.ExitCode's INTERRUPTED and TERMINATED (128 + the signal's number), written out: that
# module loads typing (tests/test_signals.py checks they agree).
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}

Handler = Callable[[signal.Signals], None]


class Interrupted(BaseException):
    """A signal asked the process to stop. Not a KeyboardInterrupt: click would print
    "Aborted!" and exit 1 for that."""

    def __init__(self, signum: signal.Signals) -> None:
        super().__init__(signum.name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.signum]


def exit_now(signum: int) -> None:
    """End the process here: no cleanup, one line on stderr."""
    os.write(2, b"zsync: interrupted\n")
    os._exit(EXIT_CODES.get(signal.Signals(signum), 128 + signum))


def quiet_while_loading() -> dict[int, Any]:
    """Make a signal end the process at once; returns the handlers it replaced, for
    `restore`. Nothing is done outside the main thread (signals are only handled there)."""
    return _install(lambda signum, frame: exit_now(signum))


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """While a command's modules load (each command imports its own when it runs): nothing
    has happened yet, so a signal ends the process at once. Raising there is no good: an
    exception raised inside an import can be swallowed by a library's bare `except:`, and
    the command would go on as if no signal had come."""
    previous = quiet_while_loading()
    try:
        yield
    finally:
        restore(previous)


def raise_on_signals() -> None:
    """Make the first signal raise `Interrupted` in the main thread, and another one end the
    process at once (a cleanup that hangs can still be cut short)."""
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            exit_now(signum)
        raised = True
        raise Interrupted(signal.Signals(signum))

    _install(handler)


def exit_at_once() -> None:
    """From now on a signal ends the process at once (the command's work is over)."""
    _install(lambda signum, frame: exit_now(signum))


def restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _install(handler: Callable[[int, FrameType | None], None]) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for signum in SIGNALS:
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread: only the main thread handles signals
            break
    return previous


class RunInterrupts:
    """SIGINT and SIGTERM in `zsync run`'s event loop: the first one is kept (`signum`), and
    handed to the handler of the moment. The default handler cancels the task that called
    `installed`: right for the run's set-up, before anything is recorded."""

    def __init__(self) -> None:
        self.signum: signal.Signals | None = None
        self._handler: Handler | None = None

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else EXIT_CODES[self.signum]

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Take SIGINT and SIGTERM for the block (call from the run's main task), then give
        them back to whoever had them before."""
        import asyncio  # here: cli.py imports this module before asyncio is loaded

        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        self._handler = None if task is None else _canceller(task)
        previous: dict[signal.Signals, Any] = {}
        for signum in SIGNALS:
            try:
                before = signal.getsignal(signum)
                loop.add_signal_handler(signum, self._fire, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or no signals here: nothing to give back
            previous[signum] = before
        try:
            yield
        finally:
            for taken, before in previous.items():
                loop.remove_signal_handler(taken)
                if before is not None:  # None: not set from Python; asyncio's default stays
                    signal.signal(taken, before)

    def keep(self) -> None:
        """From now on a signal is only kept, not acted on, until `handled_by` hands it to a
        handler: once a run is being recorded, cancelling it anywhere could leave its records
        half-written; its own handler ends it properly."""
        self._handler = None

    @contextlib.contextmanager
    def handled_by(self, handler: Handler) -> Iterator[None]:
        """`handler` takes the signal for the block; at once when one came already."""
        before, self._handler = self._handler, handler
        try:
            if self.signum is not None:
                handler(self.signum)
            yield
        finally:
            self._handler = before

    def _fire(self, signum: signal.Signals) -> None:
        if self.signum is not None:
            exit_now(signum)
        self.signum = signum
        if self._handler is not None:
            self._handler(signum)


def _canceller(task: asyncio.Task[Any]) -> Handler:
    def cancel(signum: signal.Signals) -> None:
        task.cancel()

    return cancel
