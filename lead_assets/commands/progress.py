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

    def __init__(self, what: str, total: int, *, enabled: bool) -> None:
        self.enabled = enabled
        # Forced on (``--progress``), the bar draws even where stderr is not a terminal.
        console = Console(stderr=True, force_terminal=enabled or None)
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
        task = self._progress.tasks[0]  # the only task
        total = max(task.total or 0, task.completed + by)
        self._progress.update(self._task, advance=by, total=total, step=step)

    def finish(self, step: str = "done") -> None:
        """Fill the bar: fewer steps than expected were needed (a batch with nothing to verify)."""
        self._progress.update(self._task, completed=self._progress.tasks[0].total, step=step)


def progress_wanted(flag: bool | None) -> bool:
    """``--progress`` forces the bar, ``--no-progress`` hides it, neither means a terminal only."""
    return sys.stderr.isatty() if flag is None else flag
