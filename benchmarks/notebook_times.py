"""Time every notebook in quick mode, as CI runs it; record the seconds per notebook.

Usage: python benchmarks/notebook_times.py   (the target: at most 90 s each on 2 cores)
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BUDGET_S = 90


def time_notebook(path: Path) -> float:
    """Execute one notebook from its own folder; return the wall-clock seconds."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> int:
    """Time each notebook, print a table, write results; non-zero if over budget."""
    os.environ["GANCOURSE_QUICK"] = "1"
    os.environ["GANCOURSE_HEADLESS"] = "1"  # live panels train, then return
    rows = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        rows[path.stem] = round(time_notebook(path), 1)
        flag = "" if rows[path.stem] <= BUDGET_S else f"  OVER {BUDGET_S} s"
        print(f"{path.stem:<34} {rows[path.stem]:>6.1f} s{flag}", flush=True)
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"budget_s": BUDGET_S, "machine": machine, "seconds": rows}
    (RESULTS / "notebook_times.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        "# Notebook run times in quick mode",
        "",
        f"Machine: {machine}. Budget: {BUDGET_S} s per notebook "
        "(kernel start included).",
        "",
        "| notebook | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds} |" for name, seconds in rows.items()],
    ]
    (RESULTS / "notebook_times.md").write_text("\n".join(lines) + "\n")
    return 0 if all(s <= BUDGET_S for s in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
