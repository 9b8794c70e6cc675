"""The live view on a terminal: one line per running job, redrawn in place, then a summary.

    crm_contacts     IN PROGRESS        0:12  page 2 · 200,000 rows
    sales_views      downloading        0:03  12.4 MB
    leads_in         importing part 2/5 0:05
    queued 12 · running 3 · done 85/100 (2 failed) · 0:45

What happens (a job done, a failure, a notice) is printed above the view as it comes, so the
scrollback keeps the story. Drawn with rich, which honours NO_COLOR and the terminal's width;
only this display imports it.
"""

from __future__ import annotations

import time
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from zsync import redact
from zsync.progress.board import Activity, Board
from zsync.progress.events import Event, as_clock, as_size

REDRAW_EVERY = 0.25  # seconds: smooth enough, and cheap for the event loop
SUMMARY_ROWS = 40  # the end's table lists every job up to this many, else the unsuccessful
STYLES = {"error": "bold red", "warning": "yellow", "debug": "dim"}
STATUS_STYLES = {
    "succeeded": "green",
    "failed": "bold red",
    "timed_out": "red",
    "completed_with_errors": "yellow",
    "skipped": "dim",
    "cancelled": "yellow",
}
QUIET_KINDS = frozenset({"job.heartbeat", "run.heartbeat"})  # the view itself says as much


class LiveView:
    def __init__(self, stream: TextIO) -> None:
        self.console = Console(file=stream, highlight=False, soft_wrap=False)
        self._live: Live | None = None
        self._pending: list[Text] = []
        self._drawn = 0.0
        self._finished: dict[str, Event] = {}  # each ended job's last word, for the summary

    def show(self, event: Event) -> None:
        if (
            event.kind.startswith("job.")
            and event.job
            and event.kind.split(".")[1] in (STATUS_STYLES)
        ):
            self._finished[event.job] = event
        if event.kind in QUIET_KINDS:
            return
        line = Text(time.strftime("%H:%M:%S ", time.localtime(event.at)), style="dim")
        line.append(redact.text(event.line), style=STYLES.get(event.level, ""))
        self._pending.append(line)

    def tick(self, board: Board) -> None:
        if self._live is None:
            self._live = Live(
                console=self.console, auto_refresh=False, transient=True, redirect_stderr=False
            )
            self._live.start()
        for line in self._pending:
            self._live.console.print(line)
        printed, self._pending = bool(self._pending), []
        now = time.monotonic()
        if printed or now - self._drawn >= REDRAW_EVERY:
            self._drawn = now
            self._live.update(self._view(board, now), refresh=True)

    def close(self, board: Board) -> None:
        self.tick(board)
        if self._live is not None:
            self._live.stop()
        if board.jobs:
            self.console.print(self._summary(board))

    def _view(self, board: Board, now: float) -> Group:
        room = max(3, self.console.size.height - 4)
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, max_width=40, overflow="ellipsis")
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True, justify="right")
        table.add_column(no_wrap=True)
        running = list(board.running.values())
        for activity in running[:room]:
            table.add_row(
                activity.name,
                _state(activity),
                as_clock(now - (activity.started or now)),
                activity.where(),
            )
        footer = Text(board.counts(), style="bold")
        if len(running) > room:
            footer.append(f" ({len(running) - room} running not shown)")
        footer.append(f" · {as_clock(now - board.started)}", style="dim")
        return Group(table, footer)

    def _summary(self, board: Board) -> Table:
        table = Table(show_edge=False, header_style="bold", pad_edge=False)
        table.add_column("job", overflow="fold")
        table.add_column("status", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("rows", justify="right", no_wrap=True)
        table.add_column("output, or why not", overflow="fold")
        jobs = list(board.jobs.values())
        shown = jobs if len(jobs) <= SUMMARY_ROWS else [a for a in jobs if a.status != "succeeded"]
        for activity in shown[:SUMMARY_ROWS]:
            event = self._finished.get(activity.name)
            data = event.data if event else {}
            seconds, rows = data.get("seconds"), data.get("rows")
            if isinstance(data.get("output"), str):
                said = f"{data['output']} ({as_size(int(str(data.get('bytes') or 0)))})"
            else:
                why = data.get("error") or data.get("reason")
                said = str(why) if why else event.message if event else ""
            table.add_row(
                activity.name,
                Text(
                    activity.status.replace("_", " "),
                    style=STATUS_STYLES.get(activity.status, ""),
                ),
                as_clock(seconds) if isinstance(seconds, int | float) else "",
                f"{rows:,}" if isinstance(rows, int) else "",
                redact.text(said),
            )
        hidden = len(jobs) - min(len(shown), SUMMARY_ROWS)
        if hidden:
            table.caption = f"{hidden} more job(s) not listed ({board.counts()})"
        return table


def _state(activity: Activity) -> Text:
    if activity.remote_state is not None:
        return Text(activity.remote_state, style="cyan")
    return Text(activity.phase)
