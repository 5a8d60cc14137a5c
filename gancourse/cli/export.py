"""`python -m gancourse export`: a small weights-only copy of a run's checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.cli.options import check_finite_weights, check_writable, writing
from gancourse.errors import UsageError
from gancourse.pretrained import export_weights
from gancourse.training import load_checkpoint


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `export` sub-command: a small weights-only copy of a checkpoint."""
    command.description = (
        "Write G's and D's weights in half precision with the configs, the "
        "dataset record, the loss history and the run's commands; no optimiser "
        "state, so the copy is for sampling, evaluating and fine-tuning."
    )
    command.add_argument("checkpoint", type=Path, metavar="CHECKPOINT")
    command.add_argument("out", type=Path, metavar="OUT", help="e.g. small.pt")
    command.add_argument(
        "--overwrite", action="store_true", help="replace an existing OUT file"
    )


def run(args: argparse.Namespace) -> int:
    """Write a small weights-only copy of a run's checkpoint, e.g. to ship it."""
    args.written = []  # for Ctrl-C's message
    out = args.out
    if out.suffix != ".pt":
        raise UsageError(f"{out}: give a file name ending in .pt.")
    check_writable(out, "OUT")
    if out.is_dir():
        raise UsageError(f"{out} is a folder; give a file name like dcgan.pt.")
    if out.exists() and out.resolve() == args.checkpoint.resolve():
        raise UsageError("the output is the checkpoint itself; give another file name.")
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists; give --overwrite to replace it.")
    state = load_checkpoint(args.checkpoint)
    if state.get("weights_only"):
        raise UsageError(f"{args.checkpoint} is already a weights-only export.")
    # a diverged run is not worth sharing (a checkpoint without G is refused below)
    check_finite_weights(state.get("generator") or {}, args.checkpoint)
    with writing(out, "OUT"):
        export_weights(args.checkpoint, out)
    args.written.append(out)
    size = out.stat().st_size / 2**20
    print(f"wrote {out}: {state['kind']} after {state['step']} steps, {size:.1f} MiB")
    return 0
