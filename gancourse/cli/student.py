"""`python -m gancourse student`: student copies with the solutions cleared."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.runtime import REPO_DIR


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `student` sub-command."""
    command.add_argument(
        "--notebooks", type=Path, default=REPO_DIR / "notebooks", metavar="DIR"
    )
    command.add_argument("--out", type=Path, default=Path("build/student"))
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace notebooks already in --out (default: refuse, keeping them)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the copies and name each file written."""
    from gancourse.student import make_student_copies  # needs nbformat (lab extra)

    for path in make_student_copies(args.notebooks, args.out, args.overwrite):
        print(f"wrote {path}")
    return 0
