"""Time one training step of each course workload at 1 and 2 torch threads.

Each workload runs idle, then beside a busy process that keeps one core at
100% (what a browser, a second notebook or a video call does to a laptop). The
median and the slowest of the timed steps show both the speed and the swings.

Usage: python benchmarks/threads.py   (records benchmarks/results/threads.md)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from gancourse.data import load_dataset
from gancourse.runtime import seed_everything
from gancourse.training import GANTrainer

RESULTS = Path(__file__).resolve().parent / "results"
STEPS = 30  # timed steps per setting, after 5 warm-up steps
WORKLOADS = {  # name -> (preset, dataset, image size, width, batch)
    "DCGAN 28 px, width 16, batch 32 (laptop)": ("dcgan", "mnist-5k", 28, 16, 32),
    "DCGAN 28 px, width 64, batch 64 (full)": ("dcgan", "mnist-5k", 28, 64, 64),
    "WGAN-GP 28 px, width 32, batch 64": ("wgan-gp", "mnist-5k", 28, 32, 64),
    "DCGAN 64 px, width 32, batch 32": ("dcgan", "shapes", 64, 32, 32),
}


def burn(stop) -> None:
    """Keep one core busy until `stop` is set."""
    x = 0
    while not stop.is_set():
        x = (x * 1103515245 + 12345) % 2**31


def time_steps(kind, name, size, width, batch, threads) -> list[float]:
    """Milliseconds of STEPS training steps at `threads` torch threads."""
    torch.set_num_threads(threads)
    seed_everything(0)
    data = load_dataset(name, split="train", image_size=size)
    trainer = GANTrainer.from_preset(
        kind, data, g={"width": width}, d={"width": width},
        batch_size=batch, device="cpu", progress=False,
    )  # fmt: skip
    trainer.fit(steps=5)
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        trainer.fit(steps=1)
        times.append(1000 * (time.perf_counter() - start))
    return times


def main() -> int:
    """Time every workload at 1 and 2 threads, idle and busy; write the table."""
    rows = []
    for label, setting in WORKLOADS.items():
        for load in ("idle", "one core busy"):
            stop = multiprocessing.Event()
            burner = None
            if load != "idle":
                burner = multiprocessing.Process(target=burn, args=(stop,))
                burner.start()
            try:
                for threads in (1, 2):
                    ms = time_steps(*setting, threads)
                    row = {
                        "workload": label, "load": load, "threads": threads,
                        "median_ms": round(statistics.median(ms), 1),
                        "max_ms": round(max(ms), 1),
                    }  # fmt: skip
                    rows.append(row)
                    print(row, flush=True)
            finally:
                stop.set()
                if burner is not None:
                    burner.join()
    python = sys.version.split()[0]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {python}, "
        f"torch {torch.__version__}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine, "steps": STEPS, "rows": rows}
    (RESULTS / "threads.json").write_text(json.dumps(record, indent=2) + "\n")
    lines = [
        "# One training step at 1 and 2 torch threads",
        "",
        f"Machine: {machine}. {STEPS} timed steps per row after 5 warm-up steps; "
        "'one core busy' runs a process that keeps one core at 100% beside it.",
        "",
        "| workload | load | threads | median ms | slowest ms |",
        "|---|---|---|---|---|",
        *[
            f"| {r['workload']} | {r['load']} | {r['threads']} | {r['median_ms']} "
            f"| {r['max_ms']} |"
            for r in rows
        ],
    ]
    (RESULTS / "threads.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
