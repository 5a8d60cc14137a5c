"""The grader's checks survive an interrupt that reaches the kernel late."""

import nbformat

from gancourse.grading.execute import MIME, check_exercise

TOKEN = "t0ken"


class FakeClient:
    """Plays back one list of outputs per executed cell, as a kernel would."""

    def __init__(self, *replies):
        self.nb = nbformat.v4.new_notebook()
        self.replies = list(replies)
        self.runs = 0

    def execute_cell(self, cell, index):
        assert self.nb.cells[index] is cell
        self.runs += 1
        cell.outputs = self.replies.pop(0)


INTERRUPTED = [{"output_type": "error", "ename": "KeyboardInterrupt", "evalue": ""}]
PASSED = [
    {
        "output_type": "display_data",
        "data": {
            MIME: {"token": TOKEN, "result": "passed", "message": "", "seconds": 0.1}
        },
    }
]
NOTHING = [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]


def check(client):
    return check_exercise(client, "backprop", "sigmoid_backward", TOKEN, 5)


def test_a_check_stopped_by_a_late_interrupt_runs_once_more():
    client = FakeClient(INTERRUPTED, PASSED)
    result, dead = check(client)
    assert (result.result, result.message, dead) == ("passed", "", False)
    assert client.runs == 2


def test_a_check_interrupted_twice_is_an_error_that_says_so():
    client = FakeClient(INTERRUPTED, INTERRUPTED, PASSED)
    result, _ = check(client)
    assert result.result == "error" and "interrupted" in result.message
    assert client.runs == 2  # one retry, not a loop


def test_a_missing_result_without_an_interrupt_is_not_retried():
    client = FakeClient(NOTHING, PASSED)
    result, _ = check(client)
    assert result.result == "error" and "did not come back" in result.message
    assert client.runs == 1


def test_a_missing_result_names_what_stopped_the_check_cell():
    raised = [{"output_type": "error", "ename": "SystemError", "evalue": "boom"}]
    result, _ = check(FakeClient(raised))
    assert result.message.endswith("(the check cell raised SystemError)")
