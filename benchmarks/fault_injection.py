"""Kill, interrupt and fill the disk under training runs, resume them, count losses.

Each run trains a tiny DCGAN with `python -m gancourse train` towards a total
number of steps. Every attempt but the last gets one fault at a random moment:
SIGKILL (no clean-up at all), SIGINT (Ctrl-C), SIGTERM (a scheduler), or a full
disk (the process may write no file larger than a cap, smaller than a
checkpoint). After each fault the run is started again, with --resume once it
has a checkpoint, until it reaches its total. A run "resumed exactly" when its
final checkpoint equals, tensor for tensor, that of one uninterrupted run. A
file is "lost" when a checkpoint that could be read before a fault cannot be
read after it, or holds an earlier step than before; temporary files still in
the folder at the end are counted too.

    python benchmarks/fault_injection.py --runs 12
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gancourse.errors import CheckpointError  # noqa: E402
from gancourse.training import load_checkpoint  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
FAULTS = ("kill", "interrupt", "terminate", "disk full")
ENV = {**os.environ, "GANCOURSE_QUICK": "1", "OMP_NUM_THREADS": "1"}


def command(out: Path, steps: int, every: int, resume: bool) -> list[str]:
    return [
        *(sys.executable, "-m", "gancourse", "train", "dcgan"),
        *("--dataset", "mnist-5k", "--out", str(out), "--steps", str(steps)),
        *("--checkpoint-every", str(every), "--sample-every", str(every * 2)),
        *("--width", "8", "--batch-size", "32", "--quiet"),
        *(["--resume"] if resume else []),
    ]


def saved_step(out: Path) -> int | None:
    """The step in out/checkpoint.pt; None if there is none; -1 if it is unreadable."""
    if not (out / "checkpoint.pt").exists():
        return None
    try:
        return load_checkpoint(out / "checkpoint.pt")["step"]
    except CheckpointError:
        return -1


def clear_dead_start(out: Path) -> bool:
    """A run killed before its first checkpoint leaves files `train` refuses to
    start over; its message says to delete the folder, and so do we here."""
    if saved_step(out) is None and out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
        return True
    return False


def attempt(out, steps, every, fault, rng) -> tuple[int, str]:
    """One process, with `fault` injected (or None); its exit status and stderr."""
    limit = None
    if fault == "disk full":  # room for config and grids, not for a checkpoint
        limit = rng.randint(2_000, 60_000)

    def prepare():
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job ignores it
        if limit:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    resume = saved_step(out) not in (None, -1)
    process = subprocess.Popen(
        command(out, steps, every, resume),
        cwd=REPO,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=prepare,
    )
    if fault in ("kill", "interrupt", "terminate"):
        time.sleep(rng.uniform(1.5, 8.0))  # start-up is ~2-4 s: some hit it
        if process.poll() is None:
            process.send_signal(
                {
                    "kill": signal.SIGKILL,
                    "interrupt": signal.SIGINT,
                    "terminate": signal.SIGTERM,
                }[fault]
            )
    _, err = process.communicate(timeout=600)
    return process.returncode, err


def same_checkpoints(a: dict, b: dict) -> bool:
    """Tensor-for-tensor equality of weights, optimisers, noise RNG and position."""
    if a["step"] != b["step"] or a["position"] != b["position"]:
        return False
    for part in ("generator", "discriminator"):
        if any(not torch.equal(t, b[part][k]) for k, t in a[part].items()):
            return False
    for part in ("opt_d", "opt_g"):
        for key, values in a[part]["state"].items():
            if any(
                not torch.equal(t, b[part]["state"][key][n]) for n, t in values.items()
            ):
                return False
    return torch.equal(a["rng"]["noise"], b["rng"]["noise"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=50, help="checkpoint interval")
    parser.add_argument("--faults-per-run", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--note", default="", help="what else the machine was doing")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        code, err = attempt(root / "reference", args.steps, args.every, None, rng)
        assert code == 0, err
        reference = load_checkpoint(root / "reference" / "checkpoint.pt")
        faults, exits, errors = Counter(), Counter(), []
        exact = lost = leftovers = cleared = 0
        for run in range(args.runs):
            out = root / f"run{run}"
            for _ in range(args.faults_per_run):
                fault = rng.choice(FAULTS)
                cleared += clear_dead_start(out)
                before = saved_step(out)
                code, err = attempt(out, args.steps, args.every, fault, rng)
                faults[fault] += 1
                exits[f"{fault}: exit {code}"] += 1
                after = saved_step(out)
                if before is not None and (after is None or after < before):
                    lost += 1  # unreadable (-1), gone, or an earlier step
                if "Traceback" in err:
                    errors.append(f"run {run}, {fault}: {err.strip()[-300:]}")
                if saved_step(out) == args.steps:
                    break
            for _ in range(3):  # then finish it without faults
                if saved_step(out) == args.steps:
                    break
                cleared += clear_dead_start(out)
                code, err = attempt(out, args.steps, args.every, None, rng)
                if code != 0:
                    errors.append(
                        f"run {run}, clean attempt: exit {code}: {err[-300:]}"
                    )
            leftovers += len([p for p in out.rglob(".*.tmp")])
            final = out / "checkpoint.pt"
            if final.exists() and same_checkpoints(load_checkpoint(final), reference):
                exact += 1
        seconds = time.perf_counter() - started
    record = {
        "runs": args.runs,
        "faults": sum(faults.values()),
        "faults by kind": dict(faults),
        "exit statuses": dict(sorted(exits.items())),
        "runs resumed exactly": exact,
        "files lost": lost,
        "temporary files left": leftovers,
        "folders deleted as told (killed before a first checkpoint)": cleared,
        "tracebacks": errors,
        "seconds": round(seconds, 1),
        "steps per run": args.steps,
        "checkpoint every": args.every,
        "machine": f"{os.cpu_count()} cores; {args.note or 'load not noted'}",
    }
    print(json.dumps(record, indent=2))
    write_results(record)


def write_results(record: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fault_injection.json").write_text(json.dumps(record, indent=2) + "\n")
    rows = [
        "# Fault injection under training runs",
        "",
        f"`python benchmarks/fault_injection.py --runs {record['runs']}`: tiny DCGAN "
        f"runs of {record['steps per run']} steps (checkpoint every "
        f"{record['checkpoint every']}), each hit by faults at random moments, then "
        "resumed to the end and compared with one uninterrupted run. "
        f"Machine: {record['machine']}.",
        "",
        "| runs | faults | runs resumed exactly | files lost | temporary files left "
        "| tracebacks | seconds |",
        "|---|---|---|---|---|---|---|",
        f"| {record['runs']} | {record['faults']} | {record['runs resumed exactly']} "
        f"| {record['files lost']} | {record['temporary files left']} "
        f"| {len(record['tracebacks'])} | {record['seconds']} |",
        "",
        "Folders deleted as `train`'s message told (a run killed before its first "
        "checkpoint leaves nothing to resume): "
        f"{record['folders deleted as told (killed before a first checkpoint)']}.",
        "",
        "Faults by kind: "
        + ", ".join(f"{k} {v}" for k, v in record["faults by kind"].items())
        + ".",
        "",
        "Exit statuses: "
        + ", ".join(f"{k} ({v})" for k, v in record["exit statuses"].items())
        + ". (-9: killed; 130: interrupted, last complete step saved; 2: one "
        "`error:` line, the disk full; -2 or -15: the signal came while Python was "
        "still starting, before gancourse ran, so nothing was written; 0: the fault "
        "came after the run had ended.)",
        "",
    ]
    (RESULTS / "fault_injection.md").write_text("\n".join(rows))


if __name__ == "__main__":
    main()
