"""Time every notebook in one mode; in laptop mode, also record what each one shows.

Usage: python benchmarks/notebook_times.py [--mode quick|laptop] [NOTEBOOK ...]

quick (CI's mode): the target is at most 90 s per notebook on 2 cores.
laptop: at most 10 minutes per notebook on a 2-core CPU; after each notebook has run,
a short probe in the same kernel computes the one figure that shows its phenomenon
and saves a sample grid to benchmarks/results/laptop/NOTEBOOK.png.
"""

from __future__ import annotations

import argparse
import base64
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
BUDGET_S = {"quick": 90, "laptop": 600}

# Run after the notebook, in its kernel: set `figure` (one line) and `grid`, images
# (N, C, H, W) in [-1, 1] to save, or None to keep the notebook's last figure.
PROBES = {
    "00_start_here": """
figure = f"{MODE} mode; device {device.type}; both exercises' checks pass"
grid = digits.images[::100]
""",
    "01_backprop_and_activations": """
ratio = stds["He"][-1] / stds["He"][0]
figure = f"gradient checks pass; He-initialised ReLU activations keep std x{ratio:.2f}"
grid = None
""",
    "02_numpy_layers_and_classifier": """
figure = (
    f"NumPy MLP on mnist-5k: test accuracy {test_acc:.1%}; {FOLDS}-fold CV "
    f"{fold_test.mean():.1%} ± {fold_test.std():.1%}"
)
grid = None
""",
    "03_numpy_gan_2d": """
figure = (
    f"ring8 {modes}/8 modes ({quality:.0%} high quality); grid25 {modes_g}/25 "
    f"({quality_g:.0%}), with 50 codes {modes_c}/25 ({quality_c:.0%}); "
    f"WGAN with clipping on ring8 {modes_w}/8"
)
grid = None
""",
    "04_numpy_gan_images": """
import torch
figure = (
    f"dense GAN {covered_end}/10 digits covered ({good_end:.0%} good); conv GAN "
    f"{conv_end[0]}/10; high learning rate {high}/10 against {good}/10"
)
grid = torch.from_numpy(dense.sample(64, seed=1)).float().reshape(-1, 1, 10, 10)
""",
    "05_dcgan": """
import torch as _torch
from gancourse.data import load_dataset as _load
from gancourse.metrics import (
    classifier_inception_score as _is,
    frechet_distance as _fid,
    load_classifier as _judge_of,
    predict_probs as _probs,
)
_judge = _judge_of("mnist-5k")
_fake = trainer.generate(1000)
_real = _load("mnist-5k", split="test").images
_sure = (_probs(_judge, _fake).max(1).values > 0.9).float().mean().item()
figure = (
    f"DCGAN width {WIDTH}, {trainer.step} steps on {MNIST}: the judge's FID "
    f"{_fid(_judge, _real, _fake):.2f} against held-out digits, IS "
    f"{_is(_judge, _fake):.2f} (real digits: 9.06 in notebook 09), {_sure:.0%} of "
    "samples recognised with p > 0.9"
)
grid = _fake[:64]
""",
    "06_dcgan_experiments": """
_share = class_shares(data_runs[-1])
_x = {name: last(runs[name], "d_real") for name in ("baseline", "large", "G twice")}
figure = (
    f"D(x) over the last steps: baseline {_x['baseline']:.2f}, large G "
    f"{_x['large']:.2f}, G twice {_x['G twice']:.2f}; the circles-only run draws "
    f"circles {_share['circle']:.0%} of the time"
)
grid = runs["baseline"].trainer.generate(64)
""",
    "07_wgan_and_wgan_gp": """
import numpy as _np
_curve = _np.asarray(trainers["wgan-gp"].history["wasserstein"])
_window = max(1, len(_curve) // 20)  # the notebook's smoothing
_smooth = _np.convolve(_curve, _np.ones(_window) / _window, mode="valid")
_late = _smooth[-max(1, len(_smooth) // 10) :].mean()
_modes = tracks["wgan-gp"]["modes"][-1]
figure = (
    f"WGAN-GP distance estimate: peak {_smooth.max():.1f}, last tenth {_late:.1f} "
    f"after {trainers['wgan-gp'].step} steps; ring8 WGAN-GP covers {_modes}/8 modes"
)
grid = trainers["wgan-gp"].generate(64)
""",
    "08_conditional_cgan_acgan": """
import torch as _torch
from gancourse.metrics import conditional_accuracy as _acc, load_classifier as _j
_labels = _torch.arange(1000) % 10
_judge = _j("mnist-5k")
figure = (
    f"conditional accuracy (judge): own CGAN "
    f"{_acc(_judge, cgan.generate(1000, _labels), _labels):.2f}, ACGAN "
    f"{_acc(_judge, acgan.generate(1000, _labels), _labels):.2f}, pretrained CGAN "
    f"{_acc(_judge, trained_cgan.generate(1000, _labels), _labels):.2f}"
)
grid = acgan.generate(64, _torch.arange(64) % 10)
""",
    "09_evaluating_gans": """
import torch as _torch
figure = (
    f"judge accuracy {judge_accuracy:.3f}; pretrained CGAN FID "
    f"{scores['CGAN']['FID']:.2f}, IS {scores['CGAN']['IS']:.2f}; classifier on "
    f"100% generated digits {mix_accuracy[1.0]:.3f}"
)
grid = cgan.generate(64, _torch.arange(64) % 10)
""",
    "10_capstone_pegasus": """
_p = pool_probs[best_positions[0]]
figure = (
    f"{HORSE} = horse, {BIRD} = bird; FID to training {BIRD}s: fine-tuned "
    f"{fid['fine-tuned from horses']:.1f}, from scratch {fid['from scratch']:.1f}; "
    f"best Pegasus score {best_scores[0]:.3f} (p({HORSE}) {_p[H]:.2f}, p({BIRD}) "
    f"{_p[B]:.2f}, {origin[best_positions[0]]}) of {len(pool)} candidates"
)
grid = best_images
""",
    "11_modern_gans": """
_top = RUNGS[-1]
_small = {name: run[2]["fid"] for name, run in small_runs.items()}
figure = (
    f"ladder FID (floor {floor:.2f}): "
    + ", ".join(f"{rung} {fids[rung]:.2f}" for rung in RUNGS)
    + f"; 10% data without/with DiffAugment {_small['no augmentation']:.2f}/"
    f"{_small['DiffAugment']:.2f}; CGAN accuracy, G {accuracy_g:.2f}, its average "
    f"{cgan_accuracy:.2f}"
)
grid = runs[_top][2]["samples"][:64]
""",
}
SAVE = """
import json as _json
from torchvision.utils import save_image as _save_image
if grid is not None:
    _save_image((grid.detach().float().cpu() + 1) / 2, {path!r}, nrow=8, padding=1)
print(_json.dumps({{"figure": figure, "grid": grid is not None}}))
"""


def last_image(notebook) -> bytes | None:
    """The PNG bytes of the last figure the notebook drew, if any."""
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                found = base64.b64decode(data["image/png"])
    return found


def run_notebook(path: Path, mode: str, grid_dir: Path) -> dict:
    """Execute one notebook from its own folder; return its seconds (and figure)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=1200,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    row = {}
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        row["seconds"] = round(time.perf_counter() - start, 1)
        if mode == "laptop":
            grid_path = grid_dir / f"{path.stem}.png"
            probe = PROBES.get(path.stem, "figure = 'no probe yet'\ngrid = None")
            cell = nbformat.v4.new_code_cell(probe + SAVE.format(path=str(grid_path)))
            notebook.cells.append(cell)  # nbclient runs cells of the notebook only
            client.execute_cell(cell, len(notebook.cells) - 1)
            notebook.cells.pop()
            text = "".join(o.get("text", "") for o in cell.outputs)
            result = json.loads(text.strip().splitlines()[-1])
            if not result["grid"] and (image := last_image(notebook)) is not None:
                grid_path.write_bytes(image)
            row["figure"] = result["figure"]
            row["grid"] = str(grid_path.relative_to(RESULTS))
    return row


def write_records(mode: str, budget: int, rows: dict) -> None:
    """Write the JSON record and the markdown table of every notebook timed so far."""
    suffix = "" if mode == "quick" else f"_{mode}"
    rows = dict(sorted(rows.items()))
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    record = {"mode": mode, "budget_s": budget, "machine": machine, "notebooks": rows}
    (RESULTS / f"notebook_times{suffix}.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    )
    if mode == "quick":
        header = ["| notebook | seconds |", "|---|---|"]
        table = [f"| {name} | {row['seconds']} |" for name, row in rows.items()]
    else:
        header = [
            "| notebook | seconds | machine load | what it shows | samples |",
            "|---|---|---|---|---|",
        ]
        table = [
            f"| {name} | {row['seconds']} | {row.get('load', '')} | {row['figure']} "
            f"| ![]({row['grid']}) |"
            for name, row in rows.items()
        ]
    lines = [
        f"# Notebook run times in {mode} mode",
        "",
        f"Machine: {machine}. Budget: {budget} s per notebook (kernel start not "
        "included); torch threads as setup() chooses them (every core but one).",
        "",
        *header,
        *table,
    ]
    (RESULTS / f"notebook_times{suffix}.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    """Time each notebook, print a table, write results; non-zero if over budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=sorted(BUDGET_S), default="quick")
    parser.add_argument("notebooks", nargs="*", help="names (default: all)")
    parser.add_argument(
        "--note", default="idle", help="what else the machine was doing (recorded)"
    )
    args = parser.parse_args()
    for variable in ("GANCOURSE_QUICK", "GANCOURSE_REHEARSAL"):
        os.environ.pop(variable, None)
    os.environ["GANCOURSE_MODE"] = args.mode
    os.environ["GANCOURSE_HEADLESS"] = "1"  # live panels train, then return
    budget = BUDGET_S[args.mode]
    suffix = "" if args.mode == "quick" else f"_{args.mode}"
    grid_dir = RESULTS / args.mode
    grid_dir.mkdir(parents=True, exist_ok=True)
    record_path = RESULTS / f"notebook_times{suffix}.json"
    rows = {}
    if args.notebooks and record_path.exists():  # rerun some: keep the others
        rows = json.loads(record_path.read_text())["notebooks"]
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    chosen = [p for p in paths if not args.notebooks or p.stem[:2] in args.notebooks
              or p.stem in args.notebooks]  # fmt: skip
    for path in chosen:
        rows[path.stem] = run_notebook(path, args.mode, grid_dir) | {"load": args.note}
        seconds = rows[path.stem]["seconds"]
        flag = "" if seconds <= budget else f"  OVER {budget} s"
        print(
            f"{path.stem:<34} {seconds:>6.1f} s{flag}",
            rows[path.stem].get("figure", ""),
            flush=True,
        )
        write_records(args.mode, budget, rows)  # after each notebook: nothing lost
    return 0 if all(row["seconds"] <= budget for row in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
