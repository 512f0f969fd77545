"""Shared parts of the notices tests: a real SMTP server (aiosmtpd) counting what it
receives, the SMS stand-in, a scanned workspace copied per test, an injected clock, and
the PDF checks (fonts embedded, text, pages) through poppler-utils."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
SIGN = "示例市诚信小额贷款有限公司"


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under CI=true a missing dependency is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@dataclass
class Mailbox:
    """What the SMTP server received: (recipient, Message-ID) per accepted message."""

    delay: float = 0.0
    got: list[tuple[str, str]] = field(default_factory=list)
    last: bytes = b""
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        text = envelope.content.decode("utf-8", "replace")
        mid = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in text.splitlines()
                if ln.lower().startswith("message-id:")
            ),
            "-",
        )
        with self.lock:
            self.got.append((envelope.rcpt_tos[0], mid))
            self.last = bytes(envelope.content)
        return "250 OK"

    def distinct(self) -> set[tuple[str, str]]:
        with self.lock:
            return set(self.got)


class SenderRefused(Mailbox):
    """A server that takes the connection and refuses every sender (553 to MAIL FROM): a
    first send queues the campaign, then stops with nothing sent."""

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "553 5.7.1 Sender address rejected: not owned by user"


@contextmanager
def sender_refused() -> Iterator[int]:
    """A :class:`SenderRefused` server on 127.0.0.1; its port."""
    from aiosmtpd.controller import Controller

    port = free_port()
    ctl = Controller(SenderRefused(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield port
    finally:
        ctl.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) and what it received."""
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


@dataclass
class Clock:
    """Injected time: ``now`` for the outbox, ``monotonic`` for the stand-in's rate window;
    ``sleep`` moves both forward at once (no test waits on the wall clock)."""

    t: float = 0.0
    # an hour ahead: grants approved during the test (on the real clock) are in force
    base: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )

    def now(self) -> dt.datetime:
        return self.base + dt.timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sms_provider(clock: Clock) -> Iterator[Any]:
    """The SMS stand-in on 127.0.0.1 with the notice (SMS_1) and consent (SMS_2) templates,
    its rate window on the test's clock."""
    from handover.notices.outbox import provider_date
    from handover.notices.standin import CONSENT_TEMPLATES, NOTICE_TEMPLATES, SmsStandin

    p = SmsStandin(
        keys={"LTAItest": "s3cret"},
        templates={"SMS_1": NOTICE_TEMPLATES["zh-CN"], "SMS_2": CONSENT_TEMPLATES["zh-CN"]},
        sign_names={SIGN},
        per_second=400,
        fail_every=7,
        clock=clock.monotonic,
        date=lambda: provider_date(clock.now()),
    )
    p.start()
    try:
        yield p
    finally:
        p.stop()


def sms_config(url: str, **kw: Any) -> Any:
    from handover.notices.sms import AliyunSmsConfig

    args = {
        "endpoint": url,
        "access_key_id": "LTAItest",
        "access_key_secret": "s3cret",
        "sign_name": SIGN,
        "template_code": "SMS_1",
        **kw,
    }
    return AliyunSmsConfig(**args)


def make_base(root: Path, book: Path) -> Path:
    """A demo workspace with ``book`` scanned, to be copied by each test (init + scan
    cost seconds; a copy costs milliseconds)."""
    from handover.flows.scan import run_scan
    from handover.flows.workspace import init_workspace

    ws = init_workspace(root / "base", demo=True)
    try:
        run_scan(ws, book)
    finally:
        ws.close()
    return root / "base"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, book: Path) -> Path:
    """The module's ``book`` scanned in a demo workspace (built once per module)."""
    return make_base(tmp_path_factory.mktemp("base"), book)


@pytest.fixture
def ws(tmp_path: Path, base: Path) -> Iterator[Any]:
    """A fresh copy of the module's scanned workspace, opened."""
    w = copy_ws(base, tmp_path / "ws")
    try:
        yield w
    finally:
        w.close()


def copy_ws(base: Path, dest: Path) -> Any:
    """A fresh copy of the scanned workspace ``base``, opened."""
    from handover.workspace import open_workspace

    shutil.copytree(base, dest)
    return open_workspace(dest)


def approve(ws: Any, cid: int) -> None:
    from handover.flows.notices import approve_campaign

    approve_campaign(ws, cid, actor="zhoujie")
    approve_campaign(ws, cid, actor="liqiang")


def poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool (skip, or fail under CI, when it is not installed)."""
    exe = shutil.which(tool)
    if exe is None:
        unavailable(f"{tool} (Debian package poppler-utils) not installed")
    assert exe is not None
    return subprocess.run([exe, *args], capture_output=True, text=True, check=True).stdout


def pdf_fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name, embedded) of every font the PDF uses, as pdffonts lists them."""
    lines = poppler("pdffonts", str(pdf)).splitlines()[2:]
    out = []
    for line in lines:
        parts = line.split()
        # name type... encoding emb sub uni object ID: emb is the 5th field from the end
        out.append((parts[0], parts[-5] == "yes"))
    return out


def require_font() -> None:
    """The embedded Chinese font must be installed (fonts-wqy-microhei)."""
    from handover.reports.fonts import FontMissing, font_file

    try:
        font_file()
    except FontMissing as exc:
        unavailable(str(exc))
