"""Grading past a cell that ran out of time, and a check whose result is lost."""

import nbformat
import pytest
from nbclient import NotebookClient

from gancourse.grading.execute import TIMED_OUT, check_exercise, execute


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


class FakeClient:
    """Gives every executed cell the same outputs and an ordinary reply."""

    def __init__(self, outputs):
        self.nb, self.outputs = nbformat.v4.new_notebook(), outputs
        self.on_cell_executed = None

    def execute_cell(self, cell, index):
        cell.outputs = self.outputs
        self.on_cell_executed(
            cell=cell, cell_index=index, execute_reply={"content": {}}
        )


def test_a_check_without_its_result_names_what_stopped_it():
    raised = [{"output_type": "error", "ename": "SystemError", "evalue": "boom"}]
    result, dead = check_exercise(
        FakeClient(raised), "backprop", "sigmoid_backward", "token", 5
    )
    assert (result.result, dead) == ("error", False)
    assert result.message.endswith("(the check cell raised SystemError)")
    quiet = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    result, _ = check_exercise(FakeClient(quiet), "backprop", "x", "t", 5)
    assert result.message.endswith("displays outputs?")  # nothing raised: no guess
