"""Reading the step's figures every sync_every steps (the GPU path), run on a CPU.

On CUDA the trainer reads losses to the host every SYNC_EVERY_CUDA steps, not every
step, so the GPU is never made to wait mid-run. These tests run that path on a CPU
with sync_every=4: the history, the NaN guard and Ctrl-C must behave as they do
when every step is read.
"""

import copy

import pytest
import torch

from gancourse.errors import GancourseError
from gancourse.training import Callback, Checkpoints, GANTrainer, SampleGrid
from tests.test_training import assert_same_run, make, nan_at_call

pytestmark = pytest.mark.usefixtures("one_thread")
EVERY = 4


class Lag(Callback):
    """How many steps history holds after each step; reads nothing itself."""

    def __init__(self):
        self.rows: list[int] = []

    def acts_at(self, step):
        return False

    def after_step(self, trainer):
        self.rows.append(len(trainer.history.get("step", [])))


def test_the_host_reads_figures_every_sync_every_steps(mnist):
    lag = Lag()
    trainer = make(mnist, callbacks=[lag], sync_every=EVERY).fit(steps=10)
    assert lag.rows == [0, 0, 0, 4, 4, 4, 4, 8, 8, 8]
    assert trainer.history["step"] == list(range(1, 11))  # all read when fit ends
    every_step = make(mnist, callbacks=[Lag()]).fit(steps=10)
    assert every_step.callbacks[-1].rows == list(range(1, 11))
    assert trainer.history == every_step.history  # the same figures, read later
    assert_same_run(trainer, every_step.state())


def test_a_callback_that_acts_sees_an_up_to_date_history(mnist, tmp_path):
    seen = {}

    class Every3(Callback):
        def acts_at(self, step):
            return step % 3 == 0

        def after_step(self, trainer):
            if trainer.step % 3 == 0:
                seen[trainer.step] = len(trainer.history["loss_d"])

    saves = Checkpoints(tmp_path, every=5)
    make(mnist, callbacks=[Every3(), saves, SampleGrid(every=7)], sync_every=EVERY).fit(
        steps=9
    )
    assert seen == {3: 3, 6: 6, 9: 9}
    saved = GANTrainer.resume(tmp_path / "checkpoint.pt", mnist, progress=False)
    assert saved.step == 9 and len(saved.history["loss_d"]) == 9


def test_an_unknown_callback_is_read_for_at_every_step(mnist):
    """A callback that does not say when it acts may read history at any step."""
    seen = []

    class Reader(Callback):
        def after_step(self, trainer):
            seen.append(len(trainer.history["loss_d"]))

    make(mnist, callbacks=[Reader()], sync_every=EVERY).fit(steps=5)
    assert seen == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("loss", "bad_call", "bad_step", "who"),
    [
        ("d_loss", 3, 3, "discriminator"),  # found at step 4, the window's end
        ("g_loss", 6, 6, "generator"),  # in the second window, found at its end
        ("g_loss", 1, 1, "generator"),  # the first step: nothing to redo
    ],
)
def test_a_nan_found_late_goes_back_to_the_last_good_step(
    mnist, monkeypatch, capsys, loss, bad_call, bad_step, who
):
    reference = make(mnist)
    if bad_step > 1:
        reference.fit(steps=bad_step - 1)
    expected = copy.deepcopy(reference.state())
    trainer = make(mnist, sync_every=EVERY)
    nan_at_call(monkeypatch, loss, bad_call)
    trainer.fit(steps=10)
    assert trainer.step == bad_step - 1 and not trainer.fitting
    assert f"step {bad_step}: the {who} loss is nan" in trainer.stop_reason
    assert f"state after step {bad_step - 1} is kept" in trainer.stop_reason
    assert trainer.stop_reason in capsys.readouterr().err
    assert_same_run(trainer, expected)  # weights, optimisers, RNGs and history


def test_ctrl_c_inside_a_window_keeps_every_complete_step(mnist):
    class InterruptAt6(Callback):
        def acts_at(self, step):
            return False

        def after_d_update(self, trainer):
            if trainer.step == 5:  # in step 6, the second window's second step
                raise KeyboardInterrupt

    trainer = make(mnist, callbacks=[InterruptAt6()], sync_every=EVERY)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(steps=10)
    reference = make(mnist).fit(steps=5)
    assert trainer.step == 5 and len(trainer.history["loss_d"]) == 5
    assert_same_run(trainer, reference.state())


def test_ctrl_c_just_after_a_step_queued_its_figures_takes_them_back(mnist):
    """The step is undone, so its queued figures must not reach history."""
    trainer = make(mnist, sync_every=EVERY)
    queue = trainer._record_step

    def queue_then_interrupt():
        queue()
        if trainer.step == 6:  # step 6's figures wait; the step is not yet complete
            raise KeyboardInterrupt

    trainer._record_step = queue_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(steps=10)
    reference = make(mnist).fit(steps=5)
    assert trainer.step == 5 and trainer.history["step"] == [1, 2, 3, 4, 5]
    assert_same_run(trainer, reference.state())


def test_ctrl_c_while_the_host_reads_a_window_loses_no_row(mnist):
    """On a GPU the read waits for the queued steps: Ctrl-C most often lands there."""
    trainer = make(mnist, sync_every=EVERY)
    check, checked = trainer.guard.problem, []

    def check_then_interrupt(figures):
        checked.append(figures)
        if len(checked) == EVERY + 2:  # mid-way through reading the second window
            raise KeyboardInterrupt
        return check(figures)

    trainer.guard.problem = check_then_interrupt
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(steps=10)
    reference = make(mnist).fit(steps=2 * EVERY)
    assert trainer.step == 2 * EVERY
    assert trainer.history["step"] == list(range(1, 2 * EVERY + 1))
    assert_same_run(trainer, reference.state())


def test_ctrl_c_that_cuts_a_no_grad_block_short_leaves_gradients_on(mnist):
    """torch's no_grad turns gradients off, then returns: Ctrl-C between the two
    leaves them off for the whole kernel, and the next fit fails in backward."""

    class CutNoGradShort(Callback):
        def acts_at(self, step):
            return step == 3

        def after_step(self, trainer):
            if trainer.step == 3:
                torch.set_grad_enabled(False)  # what no_grad's __enter__ did
                raise KeyboardInterrupt  # before its `with` block began

    trainer = make(mnist, callbacks=[CutNoGradShort()], sync_every=EVERY)
    try:
        with pytest.raises(KeyboardInterrupt):
            trainer.fit(steps=10)
        assert torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)  # a failure here must not break later tests
    trainer.fit(steps=2)  # a notebook's next cell goes on training
    assert trainer.step == 5


class InterruptedHistory(dict):
    """A history whose `nth` new row value gets Ctrl-C, half-way through a read."""

    def __init__(self, nth: int):
        super().__init__()
        self.nth = nth

    def setdefault(self, name, default=None):
        self.nth -= 1
        if self.nth == 0:
            raise KeyboardInterrupt
        return super().setdefault(name, default)


@pytest.mark.parametrize("nth", [1, 2, 7, 14])
def test_a_read_cut_by_ctrl_c_adds_no_row_and_keeps_the_queue(mnist, nth):
    trainer = make(mnist, sync_every=EVERY)
    for _ in range(3):
        trainer.train_step()  # three steps read by no one yet
    trainer.history = InterruptedHistory(nth)
    with pytest.raises(KeyboardInterrupt):
        trainer._sync()
    assert dict(trainer.history) == {} and len(trainer._pending) == 3
    trainer._sync()
    assert trainer.history["step"] == [1, 2, 3] and not trainer._pending
    assert len(trainer.history["loss_d"]) == 3


def test_save_during_a_window_writes_a_history_in_line_with_the_step(mnist, tmp_path):
    trainer = make(mnist, sync_every=EVERY)
    for _ in range(3):
        trainer.train_step()  # three steps read by no one yet
    assert "step" not in trainer.history
    path = trainer.save(tmp_path / "c.pt")
    again = GANTrainer.resume(path, mnist, progress=False)
    assert again.history["step"] == [1, 2, 3] == trainer.history["step"]


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "4"])
def test_sync_every_must_be_a_whole_number_of_steps(mnist, value):
    with pytest.raises(GancourseError, match="sync_every"):
        make(mnist, sync_every=value)
