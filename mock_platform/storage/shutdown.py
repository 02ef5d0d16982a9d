"""Buffered rows (batched audit rows, the request log) are written once more when the process
exits; if the database is gone by then (a test's PostgreSQL stopped first, a server shut down),
that is said in one line instead of a traceback from the interpreter's exit."""
from __future__ import annotations

import atexit
import sys
from collections.abc import Callable


def flush_at_exit(flush: Callable[[], None], what: str) -> None:
    def _final_flush() -> None:
        try:
            flush()
        except Exception as error:  # noqa: BLE001 - at exit there is no one left to raise to
            print(f"sandkasse: {what} buffered at exit could not be written: {type(error).__name__}: "
                  f"{str(error).splitlines()[0] if str(error) else ''}", file=sys.stderr)

    atexit.register(_final_flush)
