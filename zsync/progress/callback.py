"""A display that hands each line to a callable as it comes (tests, benches, embedders)."""

from __future__ import annotations

from collections.abc import Callable

from zsync.progress.board import Board
from zsync.progress.events import Event


class CallbackLines:
    def __init__(self, callback: Callable[[str], None]) -> None:
        self.callback = callback

    def show(self, event: Event) -> None:
        self.callback(event.line)

    def tick(self, board: Board) -> None:
        pass

    def close(self, board: Board) -> None:
        pass
