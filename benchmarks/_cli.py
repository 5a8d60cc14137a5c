"""Shared by the benchmarks that train through the command line (not a benchmark)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def gancourse(*args: str) -> None:
    """Run `python -m gancourse ARGS` from the repository root, failing loudly."""
    command = [sys.executable, "-m", "gancourse", *args]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, cwd=ROOT)
