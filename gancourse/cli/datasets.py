"""`python -m gancourse datasets`: the catalogue, with what is on this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from gancourse.data import describe_datasets


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `datasets` sub-command."""
    command.add_argument(
        "--root", type=Path, default=None, help="the data folder (default data/)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the catalogue as a table."""
    print(describe_datasets(args.root))
    return 0
