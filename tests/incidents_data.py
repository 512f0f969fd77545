"""Shared parts of the incidents tests: a fixed moment, the demo transfer, an injected
clock moved by hand."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from handover.workspace import Workspace, open_workspace

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
TRANSFER = {
    "name": "示例交易",
    "seller": {"name": "示例市诚信小额贷款有限公司", "contact": "王敏", "phone": "021-12345678"},
    "buyer": {"name": "示例普惠金融控股有限公司"},
    "purpose": "继续经营贷款业务",
}


class Clock:
    """An injected clock the test moves by hand."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@contextmanager
def copied(template: Path, dest: Path) -> Iterator[Workspace]:
    """A copy of the workspace ``template`` at ``dest``, opened (copying costs
    milliseconds where init and scan cost seconds)."""
    shutil.copytree(template, dest)
    ws = open_workspace(dest)
    try:
        yield ws
    finally:
        ws.close()
