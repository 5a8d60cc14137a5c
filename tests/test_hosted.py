"""A hosted Jupyter (a cloud GPU): each notebook's first cell runs unchanged there.

There the course is a clone installed with `pip install -e`, and the notebook runs
in a folder of the host's choosing, with the mode set by `%env` in the kernel
(README, "No GPU? Borrow one"). Nothing here needs the network.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def first_code_cell(path: Path):
    return next(c for c in nbformat.read(path, 4).cells if c.cell_type == "code")


def test_every_first_cell_runs_from_another_folder_with_the_mode_set_by_env(tmp_path):
    from nbclient import NotebookClient

    cells = [nbformat.v4.new_code_cell("%env GANCOURSE_MODE=quick")]
    cells += [first_code_cell(path) for path in NOTEBOOKS]
    notebook = nbformat.v4.new_notebook(cells=cells)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANCOURSE_")}
    env["GANCOURSE_THREADS"] = "1"
    client = NotebookClient(
        notebook, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute(env=env)  # raises CellExecutionError, naming the cell, on error
    for path, cell in zip(NOTEBOOKS, cells[1:], strict=True):
        said = "".join(o.get("text", "") for o in cell.outputs)
        assert "gancourse: quick mode" in said, path.name
        assert "because GANCOURSE_MODE=quick is set" in said, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_first_cells_read_no_file_beside_the_notebook(path):
    source = first_code_cell(path).source
    assert "../" not in source and "notebooks/" not in source
    assert "Path.cwd" not in source and "open(" not in source
