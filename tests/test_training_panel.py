"""The live training panel, driven as a person would: by setting values and clicking."""

import math
import time

import pytest
import torch

pytest.importorskip("ipywidgets")

from gancourse import runtime  # noqa: E402
from gancourse.data import load_dataset  # noqa: E402
from gancourse.errors import UsageError, UsageTypeError  # noqa: E402
from gancourse.training import Callback, GANTrainer  # noqa: E402
from gancourse.training.events import as_event  # noqa: E402
from gancourse.widgets import TrainingPanel, training_panel  # noqa: E402
from gancourse.widgets.training_panel import lr_exponents  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data():
    return load_dataset("mnist-5k")


@pytest.fixture
def trainer(data):
    """A tiny DCGAN: a few milliseconds a step."""
    return GANTrainer.from_preset(
        "dcgan", data, g={"width": 8}, d={"width": 8}, batch_size=32, progress=False
    )


@pytest.fixture
def headless(monkeypatch):
    monkeypatch.setattr(runtime, "HEADLESS", True)


@pytest.fixture
def background(monkeypatch):
    monkeypatch.setattr(runtime, "HEADLESS", False)


class At(Callback):
    """Calls `action(trainer)` at one event of one step (counted from 1)."""

    order = 200  # after the panel's callback

    def __init__(self, event: str, step: int, action):
        self.event, self.step, self.action = as_event(event), step, action

    def __call__(self, event, trainer):
        if event == self.event and trainer.step + (event != "after_step") == self.step:
            self.action(trainer)


class Recorder(Callback):
    """Per step: optimiser steps taken, the lrs they used, and the panel's pictures."""

    order = 200

    def __init__(self, trainer, panel=None):
        self.panel, self.rows = panel, []
        self.d_count = self.g_count = 0
        trainer.opt_d.register_step_post_hook(lambda *_: self._count("d_count"))
        trainer.opt_g.register_step_post_hook(lambda *_: self._count("g_count"))

    def _count(self, name):
        setattr(self, name, getattr(self, name) + 1)

    def before_step(self, trainer):
        self.start = (self.d_count, self.g_count)
        self.lr_d, self.lr_g = set(), set()

    def after_d_backward(self, trainer):  # just before opt_d.step()
        self.lr_d.add(trainer.opt_d.param_groups[0]["lr"])

    def after_g_backward(self, trainer):  # just before opt_g.step()
        self.lr_g.add(trainer.opt_g.param_groups[0]["lr"])

    def after_step(self, trainer):
        row = {
            "step": trainer.step,
            "d_updates": self.d_count - self.start[0],
            "g_updates": self.g_count - self.start[1],
            "lr_d": self.lr_d,
            "lr_g": self.lr_g,
            "progress": trainer.progress,
        }
        if self.panel is not None:
            row["samples"] = self.panel.sample_image.value
            row["losses"] = self.panel.loss_image.value
        self.rows.append(row)


def until(condition, timeout=15.0):
    """Wait until `condition()` holds, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the background run did not get there"
        time.sleep(0.01)


def on_grid(slider) -> bool:
    position = (math.log10(slider.value) - slider.min) / slider.step
    return abs(position - round(position)) < 1e-6


def test_controls_start_at_the_trainers_settings(trainer):
    trainer.d_steps = 5
    panel = TrainingPanel(trainer, steps=5)
    assert panel.state == "ready" and trainer.step == 0
    assert panel.lr_d.value == trainer.lr_d == 2e-4
    assert panel.lr_g.value == trainer.lr_g == 2e-4
    assert (panel.d_steps.value, panel.g_steps.value) == (5, 1)
    for slider in (panel.lr_d, panel.lr_g, panel.d_steps, panel.g_steps):
        assert slider.continuous_update is False
    assert (panel.d_steps.min, panel.d_steps.max) == (1, 10)
    assert panel.lr_d.readout_format == ".1e"  # reads 2.0e-4, as the status line
    assert panel.sample_image.value[:8] == PNG and panel.loss_image.value[:8] == PNG
    assert "<b>ready</b>" in panel.status.value and "step 0" in panel.status.value


def test_lr_sliders_are_quarter_decade_grids_through_the_start_value(trainer):
    panel = TrainingPanel(trainer, steps=5)
    slider = panel.lr_d
    assert slider.base == 10 and slider.step == 0.25
    assert slider.min <= -5 + 1e-9 and slider.max >= -2 - 1e-9
    assert on_grid(slider)  # 2e-4 itself is a grid value
    slider.value = 10 ** (slider.min + 9 * slider.step)  # a notch a person can reach
    assert on_grid(slider) and trainer.lr_d == pytest.approx(2e-4 * 10**0.75)
    for lr in (1e-4, 2e-4, 5e-5, 1.5e-4, 1e-2, 1e-5, 3e-6):
        low, high = lr_exponents(lr)
        assert low <= min(-5, math.log10(lr)) + 1e-9
        assert high >= max(-2, math.log10(lr)) - 1e-9
        span = max(-2, math.log10(lr)) - min(-5, math.log10(lr))
        assert high - low < span + 2 * 0.25  # no wider than it must be
        assert ((math.log10(lr) - low) / 0.25) == pytest.approx(
            round((math.log10(lr) - low) / 0.25)
        )
    assert lr_exponents(1e-4) == pytest.approx((-5, -2))


def test_sliders_set_the_trainer_before_a_run(trainer):
    panel = TrainingPanel(trainer, steps=5)
    panel.lr_g.value = 10 ** (panel.lr_g.min + 2 * panel.lr_g.step)
    panel.d_steps.value, panel.g_steps.value = 3, 2
    assert trainer.lr_g == pytest.approx(panel.lr_g.value)
    assert trainer.opt_g.param_groups[0]["lr"] == pytest.approx(panel.lr_g.value)
    assert (trainer.d_steps, trainer.g_steps) == (3, 2)
    assert "D steps 3, G steps 2" in panel.status.value


def test_headless_run_trains_exactly_steps_and_redraws_every_few(trainer, headless):
    panel = TrainingPanel(trainer, steps=6, every=2)
    first = panel.sample_image.value, panel.loss_image.value
    recorder = Recorder(trainer, panel)
    trainer.add_callback(recorder)
    trainer.progress = True
    assert panel.start() is panel  # returns only when training is done
    assert trainer.step == 6 and panel.done == 6 and panel.state == "finished"
    samples = [row["samples"] for row in recorder.rows]
    losses = [row["losses"] for row in recorder.rows]
    assert samples[0] == first[0] and losses[0] == first[1]  # step 1: not redrawn
    assert samples[1] != samples[0] and losses[1] != losses[0]  # step 2: redrawn
    assert samples[2] == samples[1] and samples[3] != samples[2]
    assert len(set(samples)) == 4  # start, steps 2, 4, 6
    assert "<b>finished</b>" in panel.status.value and "step 6 " in panel.status.value
    assert not any(row["progress"] for row in recorder.rows)  # the panel shows it
    assert panel.callback not in trainer.callbacks and trainer.progress is True
    assert panel.callback.panel is None  # inert even if someone kept it


def test_training_panel_trains_then_returns_and_can_train_more(trainer, headless):
    panel = training_panel(trainer, steps=3, every=10)
    assert isinstance(panel, TrainingPanel) and trainer.step == 3
    assert "step 3 (3/3 this run)" in panel.status.value
    panel.start()  # after a run ends it may train `steps` more
    assert trainer.step == 6 and panel.state == "finished"


def test_slider_moves_in_a_step_act_from_the_next_step(trainer, headless):
    panel = TrainingPanel(trainer, steps=5, every=100)
    lr_d = 10 ** (panel.lr_d.min + 2 * panel.lr_d.step)
    lr_g = 10 ** (panel.lr_g.min + 9 * panel.lr_g.step)

    def move_sliders(_):
        panel.lr_d.value, panel.lr_g.value = lr_d, lr_g
        panel.d_steps.value, panel.g_steps.value = 3, 2

    recorder = Recorder(trainer)
    trainer.add_callback(At("after_d_update", 3, move_sliders))  # inside step 3
    trainer.add_callback(recorder)
    panel.start()
    counts = [(row["d_updates"], row["g_updates"]) for row in recorder.rows]
    assert counts == [(1, 1)] * 3 + [(3, 2)] * 2
    # step 3's G update still uses the old lr: changes wait for the next step
    assert [row["lr_g"] for row in recorder.rows] == [{2e-4}] * 3 + [{lr_g}] * 2
    assert [row["lr_d"] for row in recorder.rows] == [{2e-4}] * 3 + [{lr_d}] * 2
    assert (trainer.lr_d, trainer.lr_g, trainer.d_steps) == (lr_d, lr_g, 3)


def test_background_run_pauses_resumes_and_stops(trainer, background):
    panel = TrainingPanel(trainer, steps=2000, every=1000)
    start = time.monotonic()
    panel.start()
    try:
        assert time.monotonic() - start < 2 and panel.state == "running"
        with pytest.raises(RuntimeError, match="already training"):
            panel.start()
        until(lambda: trainer.step >= 2)
        panel.pause_button.click()
        until(lambda: panel.state == "paused")
        paused_at = trainer.step
        time.sleep(0.3)
        assert trainer.step == paused_at  # no progress while paused
        assert "<b>paused</b>" in panel.status.value
        panel.d_steps.value = 2  # moves while paused apply at once
        assert trainer.d_steps == 2
        panel.resume_button.click()
        until(lambda: trainer.step >= paused_at + 3)
        panel.stop_button.click()
        panel.wait(timeout=15)
        assert not panel.running and panel.state == "stopped"
        assert trainer.step < 2000 and panel.stop_reason == "stopped on request"
        assert "<b>stopped</b>" in panel.status.value
        assert f"step {trainer.step} " in panel.status.value
        assert panel.callback not in trainer.callbacks
    finally:
        panel.stop()
        panel.wait(timeout=15)


def test_stop_while_paused_ends_the_run(trainer, background):
    panel = TrainingPanel(trainer, steps=2000, every=1000).start()
    try:
        until(lambda: trainer.step >= 1)
        panel.pause()
        until(lambda: panel.state == "paused")
        panel.stop()
        panel.wait(timeout=15)
        assert panel.state == "stopped" and trainer.step < 2000
    finally:
        panel.stop()
        panel.wait(timeout=15)


def test_a_new_panel_stops_an_earlier_hidden_run_of_its_trainer(trainer, background):
    """A reloaded page hides a running panel: a new one must not be blocked by it."""
    hidden = TrainingPanel(trainer, steps=2000, every=1000).start()
    try:
        until(lambda: trainer.step >= 1)
        hidden.pause()  # even a paused run is stopped
        until(lambda: hidden.state == "paused")
        fresh = TrainingPanel(trainer, steps=3, every=1000).start().wait(timeout=30)
        assert hidden.state == "stopped" and fresh.state == "finished"
        assert "stopped an earlier panel&#x27;s run" in fresh.status.value
        assert fresh.done == 3
    finally:
        hidden.stop()
        hidden.wait(timeout=15)


@pytest.mark.parametrize("lr", [2e-4, 10**-2.25, 10**-3.5, 10**-4.75])
def test_the_slider_readout_and_the_status_line_write_the_lr_alike(trainer, lr):
    """d3's '.1e' (the slider's readout) writes 3.6e-3, as short_lr does."""
    trainer.lr_d = lr
    panel = TrainingPanel(trainer, steps=1)
    mantissa, exponent = f"{panel.lr_d.value:.1e}".split("e")
    d3_readout = f"{mantissa}e{int(exponent)}"  # d3-format pads no exponent
    assert f"lr D {d3_readout}," in panel.status.value


def test_the_status_shows_dashes_not_nan_before_the_first_step(trainer):
    panel = TrainingPanel(trainer, steps=1)
    assert "nan" not in panel.status.value
    assert "D loss - " in panel.status.value.replace("&nbsp;", " ")


def test_a_non_finite_loss_stop_is_shown(trainer, headless):
    def poison(trainer):
        with torch.no_grad():
            for weight in trainer.D.parameters():
                weight.fill_(float("nan"))

    trainer.add_callback(At("after_step", 2, poison))
    panel = TrainingPanel(trainer, steps=10, every=100).start()
    assert trainer.step == 2 and panel.state == "stopped"
    assert panel.stop_reason == trainer.stop_reason
    assert "<b>stopped</b>" in panel.status.value
    assert "the discriminator loss is nan" in panel.status.value


def test_an_error_in_a_background_run_is_shown_and_raised_by_wait(trainer, background):
    def fail(trainer):
        raise RuntimeError("planted failure")

    trainer.add_callback(At("after_step", 2, fail))
    panel = TrainingPanel(trainer, steps=10, every=100).start()
    with pytest.raises(RuntimeError, match="planted failure"):
        panel.wait(timeout=15)
    assert panel.state == "failed" and "planted failure" in panel.status.value


def test_bad_input_is_one_clear_error_before_any_training(trainer, headless):
    with pytest.raises(UsageTypeError, match="GANTrainer.from_preset"):
        training_panel(object(), steps=5)
    with pytest.raises(UsageError, match="steps must be a whole number"):
        training_panel(trainer, steps=0)
    with pytest.raises(UsageError, match="every must be a whole number"):
        training_panel(trainer, steps=5, every=0)
    assert trainer.step == 0
