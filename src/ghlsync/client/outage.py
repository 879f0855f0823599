"""One line when HighLevel stops answering, one when it is back: not one per retried attempt.

Every call that gets no answer (``retry.Failure``) tells the ``OutageWatch`` it shares with the
other calls of a run (several clients may share one, as an extract's streams do); the first
failure of an outage says that the client is waiting and for how long at most, and the first
answer after it says how long the outage lasted. The clock is injected.

    waiting for HighLevel at http://127.0.0.1:8765: ConnectError on GET /contacts/; retrying for up to 300 s
    HighLevel at http://127.0.0.1:8765 answers again after 6.6 s
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["OutageWatch"]

log = logging.getLogger("ghlsync.client")


class OutageWatch:
    """Whether calls are failing for want of an answer, and since when."""

    def __init__(
        self,
        notify: Callable[[str], None] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._notify = notify if notify is not None else log.warning
        self._clock = clock
        self._since: float | None = None
        self._answered = False

    @property
    def ever_answered(self) -> bool:
        """Whether any call has had an answer (the outage window applies only then)."""
        return self._answered

    @property
    def waiting_since(self) -> float | None:
        """When the current outage began (the clock's time), or None when answers come."""
        return self._since

    def failed(self, where: str, what: str, window_s: float, attempts: int = 1) -> None:
        """A call got no answer (``what``: the error and call); the first one says so."""
        if self._since is None:
            self._since = self._clock()
            how = f"for up to {window_s:g} s" if window_s > 0 else f"up to {attempts} times"
            self._notify(f"waiting for HighLevel at {where}: {what}; retrying {how}")

    def answered(self, where: str) -> None:
        """A call got an answer: an outage, if any, is over."""
        self._answered = True
        if self._since is not None:
            lasted = self._clock() - self._since
            self._since = None
            self._notify(f"HighLevel at {where} answers again after {lasted:.1f} s")
