"""A progress bar on stderr for the long commands (``run`` over many batches, ``dedupe`` over a
large file): what is done out of what is expected, the current step and the time so far.

Shown on a terminal only, unless asked for (``--progress``): in a pipe or a log file the
commands keep their plain lines, which a script can read. stdout is never touched, so
``--json`` and the summaries stay machine-readable.
"""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class StepProgress:
    """Count finished steps of a known total; ``advance`` names the step that just ended."""

    def __init__(self, what: str, total: int, *, enabled: bool | None = None) -> None:
        console = Console(stderr=True, force_terminal=bool(enabled) or None)
        self.enabled = console.is_terminal if enabled is None else enabled
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[step]}"),
            console=console,
            disable=not self.enabled,
            # On a terminal, rich prints stdout lines above the bar; piped, stdout stays the
            # command's own (a summary or --json a script reads), untouched by the bar.
            redirect_stdout=sys.stdout.isatty(),
            redirect_stderr=False,
        )
        self._task = self._progress.add_task(what, total=max(total, 1), step="")

    def __enter__(self) -> StepProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def advance(self, step: str, by: int = 1) -> None:
        """One more step done (the bar grows its total rather than overflow it)."""
        task = next(t for t in self._progress.tasks if t.id == self._task)
        total = max(task.total or 0, task.completed + by)
        self._progress.update(self._task, advance=by, total=total, step=step)

    def finish(self, step: str = "done") -> None:
        """Fill the bar: fewer steps than expected were needed (a batch with nothing to verify)."""
        task = next(t for t in self._progress.tasks if t.id == self._task)
        self._progress.update(self._task, completed=task.total, step=step)


def progress_wanted(flag: bool | None) -> bool | None:
    """``--progress`` forces the bar, ``--no-progress`` hides it, neither means a terminal only."""
    if flag is None and not sys.stderr.isatty():
        return False
    return flag
