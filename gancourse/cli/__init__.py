"""The course's command line: `python -m gancourse COMMAND`.

python -m gancourse datasets
python -m gancourse train dcgan --dataset mnist-5k --steps 2000 --out runs/a
python -m gancourse train dcgan --dataset mnist-5k --steps 4000 --out runs/a --resume
python -m gancourse sample runs/a/checkpoint.pt --n 64 --out grid.png
python -m gancourse classifier --dataset mnist-5k --out clf.pt
python -m gancourse evaluate runs/a/checkpoint.pt --n 1000 --json scores.json
python -m gancourse export runs/a/checkpoint.pt small.pt
python -m gancourse student --out build/student
python -m gancourse workspace --reset 05
python -m gancourse grade submissions/ --out grades.csv --notebooks 05
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading

from gancourse.errors import GancourseError, UsageError
from gancourse.runtime import default_threads

# one module per command, gancourse.cli.<name>, with add_arguments(parser) and
# run(args); a command's module is imported only when that command runs, so
# `--help` and light commands do not wait for torchvision and torchmetrics
COMMANDS = {
    "datasets": "list every dataset: whether it is here, its images, classes, splits",
    "train": "train a GAN, writing checkpoints and sample grids to --out",
    "sample": "draw a grid of images from a checkpoint",
    "classifier": "train a classifier on a dataset's real images (for `evaluate`)",
    "evaluate": "score a checkpoint's samples: accuracy, IS, FID, KID, memorisation",
    "export": "write a small copy of a checkpoint to share (weights only, fp16)",
    "student": "write student copies of the notebooks, solutions cleared",
    "workspace": "make the student workspace `make lab` opens, or reset a notebook",
    "grade": "grade a class's submitted notebooks: grades.csv and feedback per student",
}


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors reach `main` instead of exiting."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser(commands: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser: every command named, with full options for `commands` (or all)."""
    parser = Parser(
        prog="python -m gancourse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, help in COMMANDS.items():
        command = subparsers.add_parser(name, help=help, description=help)
        if commands is None or name in commands:
            module = importlib.import_module(f"{__name__}.{name}")
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input, 130 Ctrl-C).

    A GancourseError (something the user can fix) becomes one `error:` line;
    Ctrl-C becomes one `interrupted:` line; any other exception is a bug and
    keeps its traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        with _sigterm_as_interrupt():  # a scheduler's stop is a Ctrl-C too
            chosen = [argv[0]] if argv and argv[0] in COMMANDS else []
            args = build_parser(chosen).parse_args(argv)
            args.argv = argv
            _apply_threads()
            args.written = None  # a command that lists the files it writes sets []
            return args.run(args) or 0
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except GancourseError as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(interrupted_line(args), file=sys.stderr)
        return 130


def _apply_threads() -> None:
    """GANCOURSE_THREADS, when set, is torch's CPU threads here as in the notebooks.

    Unset, torch takes every core: right for a command alone on the machine, but
    two commands side by side (or a command beside a notebook) then fight for the
    cores and can run several times slower (benchmarks/results/threads.md).
    """
    if os.environ.get("GANCOURSE_THREADS", "").strip():
        import torch

        torch.set_num_threads(default_threads())


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """Treat SIGTERM (a scheduler or `kill`) like Ctrl-C: `train` saves, then stops."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_line(args: argparse.Namespace | None) -> str:
    """What Ctrl-C prints: the files written so far, where the command lists them."""
    written = [] if args is None else args.written  # None: still starting up
    if written is None:
        return "interrupted"
    if not written:
        return "interrupted: nothing written"
    return f"interrupted after writing {', '.join(map(str, written))}"
