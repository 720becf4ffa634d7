"""Progress bars on stderr, for the commands whose runs last more than a moment.

A user who waits a minute in silence cannot tell a slow run from a hung one. A
:class:`ProgressBar` draws a rich bar on stderr — never on stdout, which scripts parse —
and only when stderr is a terminal and ``--quiet`` is off (:func:`wanted`). It appears
only once the work has lasted ``after_s`` (a run that ends at once draws nothing) and
vanishes when the work ends, so the output a command prints is the same with or without
it.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

SHOW_AFTER_S = 1.0
"""Work that ends sooner than this draws no bar."""


def wanted(quiet: bool) -> bool:
    """Whether to draw bars: stderr is a terminal and the user did not ask for quiet."""
    return not quiet and sys.stderr.isatty()


class ProgressBar:
    """One bar: ``update(done, total, note)`` as the work goes on; a no-op unless
    ``show``. Use it as a context manager."""

    def __init__(self, description: str, total: int | None, *, show: bool) -> None:
        self.description = description
        self.total = total
        self.show = show
        self._started = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressBar:
        self._started = time.monotonic()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def update(
        self,
        done: int,
        total: int | None = None,
        note: str = "",
        description: str | None = None,
    ) -> None:
        if not self.show:
            return
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._progress is None:
            if time.monotonic() - self._started < SHOW_AFTER_S:
                return
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=self.total, note="")
        assert self._task is not None
        self._progress.update(
            self._task,
            completed=done,
            total=self.total,
            note=note,
            description=self.description,
        )
