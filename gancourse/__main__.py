"""The course's command line: `python -m gancourse COMMAND`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gancourse import config


def _datasets(args: argparse.Namespace) -> None:
    """Print every dataset with its status."""
    from gancourse.data import describe_datasets

    print(describe_datasets(args.root))


def _student(args: argparse.Namespace) -> None:
    """Write student copies of the notebooks with the solutions cleared."""
    from gancourse.student import make_student_copies

    for path in make_student_copies(args.notebooks, args.out):
        print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(prog="python -m gancourse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    datasets = commands.add_parser("datasets", help="list datasets and their status")
    datasets.add_argument("--root", type=Path, default=None, help="the data folder")
    datasets.set_defaults(run=_datasets)
    student = commands.add_parser("student", help="write student copies")
    student.add_argument(
        "--notebooks", type=Path, default=config.REPO_DIR / "notebooks"
    )
    student.add_argument("--out", type=Path, default=Path("build/student"))
    student.set_defaults(run=_student)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
