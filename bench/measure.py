"""What the benchmarks share: one timed run of a command with its peak memory."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, str, int]:
    """Seconds, peak RSS in MB (GNU time: the largest process of the run), stdout, stderr
    and exit code of one run of ``cmd``."""
    with tempfile.TemporaryDirectory() as tmp:
        rss = Path(tmp) / "rss"
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(rss), *cmd],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        seconds = time.perf_counter() - t0
        text = rss.read_text().split() if rss.exists() else []
        peak = int(text[-1]) // 1024 if text and text[-1].isdigit() else 0
    return seconds, peak, proc.stdout, proc.stderr, proc.returncode
