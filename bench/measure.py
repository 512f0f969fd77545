"""What the benchmarks share: one timed run of a command with its peak memory."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
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
    seconds, peak, out, err, code, _private = _run(cmd, env, timeout, sample=False)
    return seconds, peak, out, err, code


def timed_private(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None
) -> tuple[float, int, str, str, int, int]:
    """:func:`timed`, and the largest private memory of a process of the run in MB (its
    anonymous pages, ``RssAnon``, sampled every 50 ms). Peak RSS also counts the pages of
    files a process maps (SQLite's memory maps): the kernel's file cache, shared and
    dropped at will, counted again for each mapping."""
    return _run(cmd, env, timeout, sample=True)


def _run(
    cmd: list[str], env: dict[str, str] | None, timeout: float | None, *, sample: bool
) -> tuple[float, int, str, str, int, int]:
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
        private = [0]
        done = threading.Event()
        sampler = threading.Thread(target=_sample, args=(proc.pid, done, private), daemon=True)
        if sample:
            sampler.start()
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            err += f"\nkilled after {timeout} s"
        finally:
            done.set()
        seconds = time.perf_counter() - t0
        if sample:
            sampler.join()
        text = rss.read_text().split() if rss.exists() else []
        peak = int(text[-1]) // 1024 if text and text[-1].isdigit() else 0
    return seconds, peak, out, err, proc.returncode, private[0] // 1024


def _sample(session: int, done: threading.Event, private: list[int]) -> None:
    """The largest ``RssAnon`` (kB) of a process of ``session`` until ``done``."""
    while not done.wait(0.05):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[3]) != session:
                    continue
                for line in Path(entry.path, "status").read_text().splitlines():
                    if line.startswith("RssAnon:"):
                        private[0] = max(private[0], int(line.split()[1]))
            except (OSError, ValueError, IndexError):
                continue  # the process ended meanwhile
