"""What the benchmarks share: one timed run of a command with its peak memory."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path


def load_line(before: tuple[float, float, float], after: tuple[float, float, float]) -> str:
    """The load averages around a bench (``os.getloadavg()`` before and after), one sentence:
    ratios measured while other work loads the cores are read against it."""
    b, a = ("/".join(f"{x:.2f}" for x in v) for v in (before, after))
    return f"Load average (1/5/15 min) {b} before, {a} after, on {os.cpu_count()} cores."


def timed(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None
) -> tuple[float, int, str, str, int]:
    """Seconds, peak RSS in MB (GNU time: the largest process of the run), stdout, stderr
    and exit code of one run of ``cmd``; after ``timeout`` seconds its whole process group
    is killed (exit code -9)."""
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%M", "-o", str(rss), *cmd],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            err += f"\nkilled after {timeout} s"
        seconds = time.perf_counter() - t0
        text = rss.read_text().split() if rss.exists() else []
        peak = int(text[-1]) // 1024 if text and text[-1].isdigit() else 0
    return seconds, peak, out, err, proc.returncode
