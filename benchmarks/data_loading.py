"""Time load_dataset for every shipped dataset; record the seconds.

Usage: python benchmarks/data_loading.py
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from gancourse.data import dataset_status, load_dataset

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 3


def best_of(repeats: int, **kwargs) -> float:
    """The fastest of `repeats` calls of load_dataset, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_dataset(**kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Time each shipped dataset and the shapes set at two sizes; write a table."""
    cases = [
        (name, {"name": name})
        for name, state in dataset_status().items()
        if state == "shipped" and name != "shapes"
    ]
    cases += [
        ("shapes, 32 px", {"name": "shapes", "image_size": 32}),
        ("shapes, 64 px", {"name": "shapes", "image_size": 64}),
        ("mnist-5k, 32 px", {"name": "mnist-5k", "image_size": 32}),
    ]
    rows = []
    for label, kwargs in cases:
        seconds = best_of(REPEATS, **kwargs)
        rows.append(f"| {label} | {seconds:.3f} |")
        print(f"{label:<18} {seconds:7.3f} s", flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = [
        "# load_dataset times (best of 3)",
        "",
        f"Machine: {machine}.",
        "",
        "| dataset | seconds |",
        "|---|---|",
        *rows,
    ]
    (RESULTS / "data_loading.md").write_text("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
