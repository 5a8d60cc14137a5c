"""benchmarks/ctrl_c_stress.py counts each harm of a Ctrl-C, and a clean run as none."""

import signal

import pytest
import torch

from gancourse.training.checkpoint import save_atomic
from tests.benchmarks import load_benchmark

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def stress():
    return load_benchmark("ctrl_c_stress")


def state(step=3, rows=3, loss_rows=3):
    """A checkpoint's step and history, with `rows` steps and `loss_rows` losses."""
    return {
        "step": step,
        "history": {
            "step": list(range(1, rows + 1)),
            "loss_d": [0.5] * loss_rows,
            "diversity": [0.9],  # recorded now and then, not per step
            "diversity_step": [2],
        },
    }


def test_a_history_with_one_row_per_step_is_in_line(stress):
    assert stress.history_in_line(state())


@pytest.mark.parametrize(
    "broken",
    [state(rows=2, loss_rows=2), state(loss_rows=2), state(rows=4, loss_rows=4)],
    ids=["a step lost", "a loss lost", "an undone step kept"],
)
def test_a_history_out_of_line_with_the_step_is_caught(stress, broken):
    assert not stress.history_in_line(broken)


def test_a_real_run_cut_by_ctrl_c_does_no_harm(stress, tmp_path):
    previous = signal.signal(signal.SIGALRM, stress.ctrl_c)
    try:
        for delay in (1, 2, 4, 8, 16):  # a busy machine takes longer to start
            out = tmp_path / f"after_{delay}s"
            assert stress.trial(out, every=5, delay=delay) == []
            if (out / "checkpoint.pt").exists():
                break  # it trained, then stopped
        else:
            pytest.fail("no run reached its first checkpoint before the Ctrl-C")
    finally:
        signal.signal(signal.SIGALRM, previous)


def escaped(argv):
    raise RuntimeError("unexpected pos 46 vs 0")  # what torch.save had raised


def grad_left_off(argv):
    torch.set_grad_enabled(False)
    return 130


def history_lost(argv):
    out = argv[argv.index("--out") + 1]
    save_atomic(state(rows=2, loss_rows=2), f"{out}/checkpoint.pt")
    return 130


@pytest.mark.parametrize(
    ("train", "harm"),
    [
        (escaped, "exit RuntimeError: unexpected pos 46 vs 0"),
        (lambda argv: 1, "exit 1"),
        (grad_left_off, "gradients left off"),
        (history_lost, "history not one row per step"),
    ],
)
def test_each_harm_is_counted(stress, tmp_path, monkeypatch, train, harm):
    monkeypatch.setattr(stress, "gancourse", train)
    assert stress.trial(tmp_path / "run", every=5, delay=60) == [harm]
    assert torch.is_grad_enabled()  # put back for the next trial
