"""Does G's average suffer from BatchNorm statistics that belong to G?

The average of G's weights (TrainConfig.ema) copies G's BatchNorm running
statistics, which were measured with G's weights, not the average's. This script
takes the checkpoints benchmarks/modern.py kept (its runs with EMA on) and judges,
on the same 1,000 noise vectors and against the same held-out digits as
modern.py: G itself, the average as trained (statistics copied), and the average
with its statistics measured again on its own outputs by
torch.optim.swa_utils.update_bn (BigGAN's "standing statistics").

Usage: python benchmarks/ema_batchnorm.py   (benchmarks/modern.py runs it last)
"""

from __future__ import annotations

import copy
import datetime
import json
import platform
from pathlib import Path

import torch
from torch.optim.swa_utils import update_bn

from gancourse.data import load_dataset
from gancourse.metrics import load_classifier
from gancourse.metrics.scores import fid_against, fid_metric
from gancourse.training import GANTrainer

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "build" / "bench" / "modern"
RESULTS = ROOT / "benchmarks" / "results"
BN_BATCHES = 20  # batches of 256 noise vectors for the statistics


def standing(G: torch.nn.Module) -> torch.nn.Module:
    """A copy of G whose BatchNorm statistics are measured on its own outputs."""
    G = copy.deepcopy(G)
    g = torch.Generator().manual_seed(7)
    noise = [G.sample_noise(256, "cpu", g) for _ in range(BN_BATCHES)]  # (256, z)
    update_bn(noise, G)  # resets the statistics, averages them over the batches
    return G.eval()


def judge_run(folder: Path, train, metric) -> dict:
    """FID of G, of its average, and of the average with its own statistics."""
    trainer = GANTrainer.resume(folder / "best.pt", train, device="cpu", progress=False)
    noise = trainer.G.sample_noise(1000, "cpu", torch.Generator().manual_seed(123))

    @torch.no_grad()
    def fid(G) -> float:
        return round(fid_against(metric, G.eval()(noise).float()), 3)

    average = trainer.g_average.model
    return {
        "run": folder.name,
        "step": trainer.step,
        "G": fid(trainer.G),
        "average": fid(average),
        "average, own statistics": fid(standing(average)),
    }


def merge_rows(recorded: list[dict], judged: list[dict]) -> list[dict]:
    """The judged rows, and the recorded rows of runs not judged now, by run name."""
    fresh = {r["run"] for r in judged}
    kept = [r for r in recorded if r["run"] not in fresh]
    return sorted(kept + judged, key=lambda r: r["run"])


def main() -> None:
    torch.set_num_threads(1)
    folders = sorted(
        f
        for f in RUNS.glob("full_*")
        if (f / "best.pt").exists() and ("EMA" in f.name or "R1R2" in f.name)
    )
    if not folders:  # `make bench` may reach this script before modern.py
        print("skipped: no runs of benchmarks/modern.py with EMA yet (it runs this).")
        return
    train = load_dataset("mnist-5k")
    held_out = load_dataset("mnist-5k", split="test").images[:1000]
    metric = fid_metric(load_classifier("mnist-5k"), held_out)
    judged = []
    for folder in folders:
        judged.append(judge_run(folder, train, metric))
        print(judged[-1], flush=True)
    record = RESULTS / "ema_batchnorm.json"
    recorded = json.loads(record.read_text()) if record.exists() else []
    rows = merge_rows(recorded, judged)  # checkpoints deleted since: rows kept
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ema_batchnorm.json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = [
        "# G's average and BatchNorm statistics",
        "",
        f"{datetime.date.today()}, {platform.machine()}, one thread, Python "
        f"{platform.python_version()}. The kept (best) checkpoint of each "
        "`benchmarks/modern.py` run with EMA on (rung + EMA, and the top rung), "
        "judged as modern.py judges: FID of 1,000 samples from the same noise "
        "against the 1,000 held-out digits. Own statistics: "
        f"`torch.optim.swa_utils.update_bn` on {BN_BATCHES} batches of 256. "
        f"{len(judged)} of the {len(rows)} runs were judged now; the others are kept "
        "from the earlier record, their checkpoints no longer being here.",
        "",
        "| run | step | G | average (G's statistics) | average, own statistics |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['run']} | {r['step']} | {r['G']:.2f} | {r['average']:.2f} | "
            f"{r['average, own statistics']:.2f} |"
        )
    (RESULTS / "ema_batchnorm.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
