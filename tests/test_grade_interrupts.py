"""A cell past its time is interrupted, and the cells after it keep their outputs."""

import nbformat
import pytest
from nbclient import NotebookClient

from gancourse.grading.execute import TIMED_OUT, execute


@pytest.fixture()
def client(tmp_path):
    """A live kernel, set up as grade_notebook sets up its client."""
    notebook = nbformat.v4.new_notebook()
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
        interrupt_on_timeout=True,
        error_on_timeout={"ename": TIMED_OUT, "evalue": "", "traceback": []},
    )
    with client.setup_kernel():
        yield client


def run(client, source, timeout=30):
    """Append a code cell, run it, and return (cell, whether it timed out)."""
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    client.timeout = timeout
    return cell, execute(client, cell, len(client.nb.cells) - 1)


def test_the_cells_after_an_endless_loop_keep_every_output(client):
    _, timed_out = run(client, "x = 1")
    assert not timed_out
    _, timed_out = run(client, "while True:\n    pass", timeout=2)
    assert timed_out
    for n in range(8):  # a reader left behind by the loop would take some of these
        cell, timed_out = run(client, f"print({n} + x)")
        assert not timed_out
        assert [o.get("text") for o in cell.outputs] == [f"{n + 1}\n"]
