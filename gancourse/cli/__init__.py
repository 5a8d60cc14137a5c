"""The course's command line: `python -m gancourse COMMAND`.

python -m gancourse datasets
python -m gancourse train dcgan --dataset mnist-5k --steps 2000 --out runs/a
python -m gancourse train dcgan --dataset mnist-5k --steps 4000 --out runs/a --resume
python -m gancourse sample runs/a/checkpoint.pt --n 64 --out grid.png
python -m gancourse classifier --dataset mnist-5k --out clf.pt
python -m gancourse evaluate runs/a/checkpoint.pt --n 1000 --json scores.json
python -m gancourse export runs/a/checkpoint.pt small.pt
python -m gancourse student --out build/student
"""

from __future__ import annotations

import argparse
import sys

from gancourse.cli import (
    classifier,
    datasets,
    evaluate,
    export,
    sample,
    student,
    train,
)
from gancourse.errors import GancourseError, UsageError

# one module per command, each with add_parser(commands) and run(args)
COMMANDS = (datasets, train, sample, classifier, evaluate, export, student)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors reach `main` instead of exiting."""

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per module of COMMANDS."""
    parser = Parser(
        prog="python -m gancourse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad input).

    A GancourseError (something the user can fix) becomes one `error:` line;
    any other exception is a bug and keeps its traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        return args.run(args) or 0
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    except GancourseError as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
