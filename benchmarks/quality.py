"""How good is the course's CGAN? Trained on the CPU, judged by the shipped classifier.

Trains `python -m gancourse train cgan` on mnist-5k's 4,000 training digits for a
fixed number of epochs on the CPU (the budget: 15 minutes on the 2-core CI machine),
then `python -m gancourse evaluate` judges 1,000 samples with the shipped classifier:
conditional accuracy (target: at least 0.98; report 001 reached 0.9654), the
classifier's Inception Score, FID and KID next to the same figures for the 1,000
held-out real digits, and the memorisation check. The figures and a per-class grid
(one row per digit) are recorded under results/.

Usage: python benchmarks/quality.py [--epochs 340] [--width 32]
       python benchmarks/quality.py --epochs 110 --ema 0.999 --budget 5 --name fast
(--ema, --projection and --spectral-norm go to `train`; --name writes
results/quality_NAME.md and .json beside the course CGAN's quality.md.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import time

import torch
from _cli import RESULTS, ROOT, gancourse

RUN = ROOT / "build" / "bench" / "cgan_mnist5k_quality"
TARGET_ACCURACY = 0.98


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=340)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--ema", type=float, help="train's --ema BETA")
    parser.add_argument("--projection", action="store_true")
    parser.add_argument("--spectral-norm", action="store_true")
    parser.add_argument("--budget", type=float, default=15, help="minutes")
    parser.add_argument("--name", help="write results/quality_NAME.*")
    args = parser.parse_args()
    shutil.rmtree(RUN, ignore_errors=True)
    train = [
        "train", "cgan", "--dataset", "mnist-5k", "--split", "train",
        "--epochs", str(args.epochs), "--width", str(args.width),
        "--out", str(RUN.relative_to(ROOT)), "--device", "cpu", "--quiet",
    ]  # fmt: skip
    if args.ema is not None:
        train += ["--ema", str(args.ema)]
    train += ["--projection"] * args.projection
    train += ["--spectral-norm"] * args.spectral_norm
    stem = f"quality_{args.name}" if args.name else "quality"
    start = time.perf_counter()
    gancourse(*train)
    seconds = time.perf_counter() - start
    RESULTS.mkdir(exist_ok=True)
    figures = RUN / "evaluate.json"
    checkpoint = str(RUN / "checkpoint.pt")
    gancourse("evaluate", checkpoint, "--device", "cpu", "--json", str(figures))
    grid = RESULTS / f"{stem}_cgan_mnist5k.png"
    gancourse("sample", checkpoint, "--n", "100", "--out", str(grid), "--device", "cpu",
              "--overwrite")  # fmt: skip
    metrics = json.loads(figures.read_text())
    steps = json.loads((RUN / "config.json").read_text())
    result = {
        "date": datetime.date.today().isoformat(),
        "command": "python -m gancourse " + " ".join(train),
        "epochs": args.epochs,
        "width": args.width,
        "train_seconds": round(seconds, 1),
        "budget_minutes": args.budget,
        "within_budget": seconds <= args.budget * 60,
        "torch_threads": torch.get_num_threads(),
        "conditional_accuracy_target": TARGET_ACCURACY,
        "meets_accuracy_target": metrics["conditional_accuracy"] >= TARGET_ACCURACY,
        "metrics": metrics,
        "train_config": steps["train"],
        "grid": grid.name,
    }
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(report(result))
    print((RESULTS / f"{stem}.md").read_text())


def report(result: dict) -> str:
    """The markdown page of results/quality.md."""
    m = result["metrics"]
    memo = m["memorisation"]
    (kid, kid_sd), (real_kid, real_kid_sd) = m["kid"]["samples"], m["kid"]["held_out"]
    return "\n".join([
        "# CGAN quality on mnist-5k (CPU), judged by the shipped classifier",
        "",
        f"{result['date']}: `{result['command']}`, then `python -m gancourse "
        f"evaluate` on its checkpoint ({m['n']} samples, labels cycling over the "
        "digits).",
        "",
        f"- Training: {result['epochs']} epochs in **{result['train_seconds'] / 60:.1f}"
        f" minutes** on {result['torch_threads']} CPU threads (budget: "
        f"{result['budget_minutes']:g} minutes on the 2-core CI machine).",
        f"- Conditional accuracy: **{m['conditional_accuracy']:.4f}** (target "
        f"{TARGET_ACCURACY}; report 001: 0.9654). Per digit: "
        + ", ".join(f"{k} {v:.2f}" for k, v in m["per_class_accuracy"].items())
        + ".",
        "",
        f"| figure ({m['n']} images each) | CGAN samples | held-out real digits |",
        "|---|---|---|",
        f"| Inception Score with the classifier (1 to 10) | "
        f"{m['inception_score']['samples']:.2f} | "
        f"{m['inception_score']['held_out']:.2f} |",
        f"| FID against training digits, classifier features | "
        f"{m['fid']['samples']:.2f} | {m['fid']['held_out']:.2f} |",
        f"| KID x 1000 | {1000 * kid:.2f} ± {1000 * kid_sd:.2f} | "
        f"{1000 * real_kid:.2f} ± {1000 * real_kid_sd:.2f} |",
        f"| nearer a training digit than 99% of held-out digits ("
        f"{memo['threshold']:.2f}) | {memo['fraction']:.1%} | "
        f"{memo['held_out_fraction']:.1%} |",
        "",
        "One row per digit, 0 to 9:",
        "",
        f"![per-class grid]({result['grid']})",
        "",
    ])  # fmt: skip


if __name__ == "__main__":
    main()
