"""A full DCGAN run on mnist-5k on the CPU, through the course's command line.

Trains `python -m gancourse train dcgan` on all 5,000 digits (train+test) for a
fixed number of epochs, times it (the target: within 10 minutes on the 2-core
CI machine), draws 64 samples with `python -m gancourse sample` and keeps the
grid under results/ so a person can see that the digits are recognisable.

Usage: python benchmarks/dcgan_cpu_run.py [--epochs 30]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import shutil
import time

import torch
from _cli import RESULTS, ROOT, gancourse

RUN = ROOT / "build" / "bench" / "dcgan_mnist5k_cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    shutil.rmtree(RUN, ignore_errors=True)
    train = [
        "train", "dcgan", "--dataset", "mnist-5k", "--split", "train+test",
        "--epochs", str(args.epochs), "--out", str(RUN.relative_to(ROOT)),
        "--device", "cpu",
        "--sample-every", "500", "--checkpoint-every", "500", "--quiet",
    ]  # fmt: skip
    start = time.perf_counter()
    gancourse(*train)
    seconds = time.perf_counter() - start
    grid = RESULTS / "dcgan_mnist5k_cpu.png"
    RESULTS.mkdir(exist_ok=True)
    sample = ["sample", str(RUN / "checkpoint.pt"), "--n", "64", "--out", str(grid)]
    gancourse(*sample, "--device", "cpu")
    with open(RUN / "history.csv") as file:
        rows = list(csv.DictReader(file))
    last = rows[-50:]
    mean = {k: sum(float(r[k]) for r in last) / len(last) for k in ("d_real", "d_fake")}
    result = {
        "date": datetime.date.today().isoformat(),
        "command": "python -m gancourse " + " ".join(train),
        "epochs": args.epochs,
        "steps": len(rows),
        "seconds": round(seconds, 1),
        "within_10_minutes": seconds <= 600,
        "torch_threads": torch.get_num_threads(),
        "d_real_last_50": round(mean["d_real"], 3),
        "d_fake_last_50": round(mean["d_fake"], 3),
        "grid": grid.name,
    }
    (RESULTS / "dcgan_cpu_run.json").write_text(json.dumps(result, indent=2))
    (RESULTS / "dcgan_cpu_run.md").write_text(
        "\n".join([
            "# DCGAN on mnist-5k, CPU, through the command line",
            "",
            f"{result['date']}: `{result['command']}`",
            "",
            f"- {result['steps']} steps ({args.epochs} epochs of 5,000 digits, batch "
            f"64) in **{seconds / 60:.1f} minutes** on {result['torch_threads']} "
            "CPU threads (target: within 10 minutes on the 2-core CI machine).",
            f"- D(x) {mean['d_real']:.2f}, D(G(z)) {mean['d_fake']:.2f}, averaged "
            "over the last 50 steps.",
            "",
            f"![64 samples]({grid.name})",
            "",
        ])
    )  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
