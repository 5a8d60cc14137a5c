"""`python -m gancourse datasets`: the catalogue, with what is on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.data import describe_datasets


def add_parser(commands) -> None:
    """The `datasets` sub-command."""
    command = commands.add_parser(
        "datasets",
        help="list every dataset: whether it is here, its images, classes, splits",
    )
    command.add_argument(
        "--root", type=Path, default=None, help="the data folder (default data/)"
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the catalogue as a table."""
    print(describe_datasets(args.root))
    return 0
