"""When paint waiting in memory is saved, whatever the browser does next.

A dab saves paint that has waited `delay` seconds, but a pointer held still sends no dabs, and a
save that failed (a full disk, a read-only database, a database server away) must be tried again
although the person changes nothing. `Autosave` arms one timer on the server's document for both:
`changed()` when the first unsaved change is made, `failed()` after a failed save, `saved()` once
everything is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

Schedule = Callable[[float, Callable[[], None]], object]


class Autosave:
    def __init__(self, save: Callable[[], None], delay: float, retry: float,
                 schedule: Schedule | None = None, cancel: Callable[[object], None] | None = None):
        self._save = save
        self.delay = delay
        self.retry = retry
        self._schedule = schedule
        self._cancel = cancel
        self._timer = None
        self.fired = 0

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def changed(self) -> None:
        """Unsaved paint exists: save it within `delay` (an armed timer is left as it is, so a
        stream of dabs does not push the save back)."""
        if self._timer is None:
            self._arm(self.delay)

    def failed(self) -> None:
        """The save failed: try again in `retry` seconds."""
        self._disarm()
        self._arm(self.retry)

    def saved(self) -> None:
        self._disarm()

    def _arm(self, delay: float) -> None:
        if self._schedule is not None:
            self._timer = self._schedule(delay, self._fire)

    def _disarm(self) -> None:
        if self._timer is not None and self._cancel is not None:
            try:
                self._cancel(self._timer)
            except ValueError:      # it already ran
                log.debug("autosave timer already ran")
        self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self.fired += 1
        try:
            self._save()
        except Exception:  # a timer callback must never take the page down
            log.exception("autosave failed")
