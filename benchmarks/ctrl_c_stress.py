"""Ctrl-C at random moments inside `train`, many times over; count the harm done.

Python turns Ctrl-C into a KeyboardInterrupt raised in the main thread between
two bytecodes, wherever the program is: in a step, in a checkpoint's write, in
the host's read of queued figures, inside torch's `no_grad`. A SIGALRM handler
here raises it the same way, at a random moment of each trial, so hundreds of
interrupts take minutes instead of the hours separate processes would (see
fault_injection.py for real signals to real processes). Each trial runs
`python -m gancourse train dcgan` in the worker and is harmed when:

- it does not end with exit status 130 (an exception escaped, or another status);
- its checkpoint cannot be read, or its history does not hold one row per step;
- a temporary file is left in its folder;
- gradients are left off afterwards (a notebook's kernel could not train again);
- the process itself dies (a notebook's kernel would die with it). The trials run
  in a worker process, started again after such a death for the trials left.

    python benchmarks/ctrl_c_stress.py --trials 200
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("GANCOURSE_QUICK", "1")

import torch  # noqa: E402

from gancourse.cli import main as gancourse  # noqa: E402
from gancourse.errors import CheckpointError  # noqa: E402
from gancourse.training import load_checkpoint  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"


def ctrl_c(*_) -> None:
    """What Python's own SIGINT handler does."""
    raise KeyboardInterrupt


def train_args(out: Path, every: int) -> list[str]:
    return [
        *("train", "dcgan", "--dataset", "mnist-5k", "--out", str(out)),
        *("--steps", "100000", "--checkpoint-every", str(every)),
        *("--sample-every", "1000", "--width", "8", "--batch-size", "32", "--quiet"),
    ]


def history_in_line(state: dict) -> bool:
    """One row per step in every per-step column."""
    history = state["history"]
    steps = len(history.get("step", []))
    per_step = [
        n for n in history if not n.endswith("_step") and f"{n}_step" not in history
    ]
    return steps == state["step"] and all(len(history[n]) == steps for n in per_step)


def trial(out: Path, every: int, delay: float) -> list[str]:
    """One run interrupted after `delay` seconds; what went wrong (empty: nothing)."""
    harm = []
    signal.setitimer(signal.ITIMER_REAL, delay)
    try:
        with (
            contextlib.redirect_stderr(io.StringIO()),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            code = gancourse(train_args(out, every))
    except BaseException as error:  # noqa: BLE001 (what escaped is what we count)
        code = f"{type(error).__name__}: {str(error)[:80]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if code != 130:
        harm.append(f"exit {code}")
    if (out / "checkpoint.pt").exists():
        try:
            if not history_in_line(load_checkpoint(out / "checkpoint.pt")):
                harm.append("history not one row per step")
        except CheckpointError:
            harm.append("checkpoint unreadable")
    if list(out.glob(".*.tmp")):
        harm.append("temporary file left")
    if not torch.is_grad_enabled():
        harm.append("gradients left off")
        torch.set_grad_enabled(True)  # so that the next trials measure themselves
    return harm


def delay_of(seed: int, number: int) -> float:
    """Trial `number`'s seconds before Ctrl-C: from before the first step to ~100."""
    return random.Random(seed * 1_000_003 + number).uniform(0.5, 2.5)


def worker(first: int, trials: int, every: int, seed: int) -> None:
    """Run trials first.. in this process; one JSON line as each starts and ends."""
    torch.set_num_threads(1)
    signal.signal(signal.SIGALRM, ctrl_c)
    with tempfile.TemporaryDirectory() as folder:
        for number in range(first, trials):
            print(json.dumps({"start": number}), flush=True)
            harm = trial(Path(folder) / f"run{number}", every, delay_of(seed, number))
            print(json.dumps({"end": number, "harm": harm}), flush=True)
            shutil.rmtree(Path(folder) / f"run{number}", ignore_errors=True)


def run_trials(trials: int, every: int, seed: int) -> dict[int, list[str]]:
    """Every trial's harms; a worker that dies is restarted after its trial."""
    harms, first = {}, 0
    while first < trials:
        command = [sys.executable, __file__, "--worker", str(first)]
        command += ["--trials", str(trials), "--every", str(every), "--seed", str(seed)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        started = None
        for line in done.stdout.splitlines():
            if not line.startswith("{"):  # a library's own print, not an event
                continue
            event = json.loads(line)
            if "start" in event:
                started = event["start"]
            else:
                harms[event["end"]], started = event["harm"], None
        if started is None and done.returncode == 0:
            break
        if started is None:  # died between trials: a bug here, not a finding
            raise RuntimeError(f"worker failed: {done.stderr[-2000:]}")
        reason = done.stderr.strip().splitlines()[-1:] or [""]
        harms[started] = [f"process died, exit {done.returncode}: {reason[0][:80]}"]
        first = started + 1
    return harms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--every", type=int, default=5, help="checkpoint interval")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--note", default="", help="what else the machine was doing")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # first trial
    args = parser.parse_args()
    if args.trials < 1 or args.every < 1:
        parser.error("--trials and --every must be whole numbers of at least 1")
    if args.worker is not None:
        worker(args.worker, args.trials, args.every, args.seed)
        return
    started = time.perf_counter()
    harms = run_trials(args.trials, args.every, args.seed)
    by_harm, examples = Counter(), {}
    for number, found in sorted(harms.items()):
        for harm in found:
            kind = harm.split(":")[0]
            by_harm[kind] += 1
            examples.setdefault(
                kind, f"trial {number}, {delay_of(args.seed, number):.2f} s: {harm}"
            )
    record = {
        "trials": args.trials,
        "trials harmed": sum(bool(found) for found in harms.values()),
        "trials harmed, by harm": dict(by_harm),
        "first of each": examples,
        "checkpoint every": args.every,
        "seed": args.seed,
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
        "machine": f"{os.cpu_count()} cores; {args.note or 'load not noted'}",
    }
    print(json.dumps(record, indent=2))
    write_results(record)


def write_results(record: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ctrl_c_stress.json").write_text(json.dumps(record, indent=2) + "\n")
    by_harm = record["trials harmed, by harm"]
    rows = [
        "# Ctrl-C at random moments inside `train`",
        "",
        f"`python benchmarks/ctrl_c_stress.py --trials {record['trials']}`: each trial "
        "trains a tiny DCGAN in a worker process (checkpoint every "
        f"{record['checkpoint every']} steps) and gets a KeyboardInterrupt, as Ctrl-C "
        "gives, 0.5 to 2.5 s after it starts. Machine: "
        f"{record['machine']}; torch {record['torch']}; {record['seconds']} s.",
        "",
        f"Trials harmed: **{record['trials harmed']}** of {record['trials']} "
        "(target: none).",
        "",
        *(["| harm | trials |", "|---|---|"] if by_harm else []),
        *(f"| {kind} | {count} |" for kind, count in sorted(by_harm.items())),
        "",
        *(f"- {example}" for example in record["first of each"].values()),
    ]
    (RESULTS / "ctrl_c_stress.md").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
