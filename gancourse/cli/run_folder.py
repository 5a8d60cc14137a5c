"""A training run's folder: its files, and refusing to start over another run.

A run folder holds checkpoint.pt, samples/step_XXXXXXX.png, config.json (every
command and the resolved settings) and history.csv (one row per step).
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from gancourse.errors import UsageError
from gancourse.files import write_text_atomic

CHECKPOINT, CONFIG, HISTORY, SAMPLES = (
    "checkpoint.pt",
    "config.json",
    "history.csv",
    "samples",
)
RUN_FILES = (CHECKPOINT, CONFIG, HISTORY, SAMPLES)


def check_out_folder(out: Path, resume: bool) -> None:
    """Refuse to start over another run, or to resume a run that is not there."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the run.")
    present = [name for name in RUN_FILES if (out / name).exists()]
    if not resume and present:
        raise UsageError(
            f"{out} already holds a run ({', '.join(present)}): pass --resume to "
            "continue it, or choose another --out folder."
        )
    if resume and not (out / CHECKPOINT).is_file():
        hint = (
            "the run there stopped before its first checkpoint; delete the folder "
            "or choose another --out, and start without --resume"
            if present
            else "check the folder, or leave out --resume to start a new run"
        )
        raise UsageError(f"--resume: there is no {CHECKPOINT} in {out}: {hint}.")


def read_config(out: Path) -> dict:
    """The run's config.json, or {} if it is missing or unreadable."""
    try:
        return json.loads((out / CONFIG).read_text())
    except (OSError, ValueError):
        return {}


def write_config(args, trainer, dataset, saved_config: dict) -> None:
    """config.json: what was run (every command, resolved settings, the configs)."""
    runs = saved_config.get("runs", []) if args.resume else []
    runs.append(
        {
            "command": ["python", "-m", "gancourse", *args.argv],
            "start_step": trainer.step,
            "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    settings = {
        name: str(value) if isinstance(value, Path) else value
        for name, value in vars(args).items()
        if name not in ("run", "argv")
    }
    config = {
        "kind": trainer.config.kind,
        "runs": runs,
        "args": settings,
        "generator": trainer.G.config.to_dict(),
        "discriminator": trainer.D.config.to_dict(),
        "train": trainer.config.to_dict(),
        "dataset": {
            "name": dataset.name,
            "split": args.split,
            "classes": dataset.classes,
            "image_shape": list(dataset.image_shape),
            "size": len(dataset),
            "flip": dataset.flip,
        },
        "device": str(trainer.device),
    }
    write_text_atomic(args.out / CONFIG, json.dumps(config, indent=2) + "\n")


def write_history(history: dict[str, list[float]], path: Path) -> None:
    """history.csv: one row per step, one column per recorded figure."""
    steps = history.get("step", [])
    recorded = {n for n in history if n.endswith("_step")}  # trainer.record()'s
    recorded |= {n.removesuffix("_step") for n in recorded}
    names = ["step"] + [
        name
        for name, values in history.items()
        if name != "step" and name not in recorded and len(values) == len(steps)
    ]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(names)
        writer.writerows(zip(*(history[name] for name in names), strict=True))
