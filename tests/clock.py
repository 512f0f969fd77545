"""An injected clock the tests move by hand (flows take ``clock=`` or ``now=``)."""

from __future__ import annotations

import datetime as dt


class Clock:
    """Returns the time it is set to; ``advance`` moves it."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)
