"""`python -m gancourse workspace`: the student workspace that `make lab` opens."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.workspace import NOTEBOOKS_DIR, SOLUTIONS, WORKSPACE_DIR


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `workspace` sub-command."""
    command.add_argument("--dir", type=Path, default=WORKSPACE_DIR, metavar="DIR")
    command.add_argument("--notebooks", type=Path, default=NOTEBOOKS_DIR, metavar="DIR")
    command.add_argument(
        "--reset",
        metavar="NB",
        help="give notebook NB (e.g. 05) a fresh copy; the old one is kept beside it",
    )


def run(args: argparse.Namespace) -> int:
    """Make or complete the workspace, or reset one notebook; say what happened."""
    from gancourse.workspace import prepare_workspace, reset_notebook

    if args.reset is not None:
        kept, fresh = reset_notebook(args.reset, args.notebooks, args.dir)
        if kept is not None:
            print(f"kept your old copy as {kept}")
        print(f"wrote a fresh copy: {fresh}")
        return 0
    report = prepare_workspace(args.notebooks, args.dir)
    for path in report.created:
        print(f"new student copy: {path}")
    if report.kept:
        print(
            f"kept your {len(report.kept)} notebooks in {args.dir} as they are "
            "(`make reset NB=05` gives notebook 05 a fresh copy)"
        )
    print(f"solved notebooks, read-only: {args.dir / SOLUTIONS}")
    return 0
