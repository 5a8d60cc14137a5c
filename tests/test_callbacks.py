"""The callback contract: events defined once, misspelt handlers refused, record()."""

import csv

import pytest
import torch

from gancourse.cli.run_folder import write_history
from gancourse.data.base import ImageDataset
from gancourse.errors import UsageError
from gancourse.training import Callback, CollapseMonitor, Event, GANTrainer

EVENT_LIST = ", ".join(event.value for event in Event)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def two_batches(mnist) -> ImageDataset:
    """32 MNIST images: one epoch is two batches of 16."""
    return ImageDataset("two-batches", mnist.images[:32], mnist.labels[:32], ["x"])


def make(dataset, callbacks=(), **train) -> GANTrainer:
    """A tiny DCGAN on the CPU (width 8, batch 16) without a progress bar."""
    train.setdefault("batch_size", 16)
    return GANTrainer.from_preset(
        "dcgan",
        dataset,
        g={"width": 8},
        d={"width": 8},
        device="cpu",
        callbacks=list(callbacks),
        progress=False,
        **train,
    )


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- class definition


def test_a_misspelt_event_method_is_refused_when_the_class_is_defined():
    with pytest.raises(UsageError) as error:

        class Typo(Callback):
            def after_stpe(self, trainer):
                pass

    message = str(error.value)
    assert "Typo.after_stpe" in message and "Did you mean after_step?" in message
    assert EVENT_LIST in message


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("before_d_updte", "Did you mean after_d_backward?"),  # a typo of an old name
        ("before_d_update", "It was renamed after_d_backward."),  # the old vocabulary
        ("after_d_step", "It was renamed after_d_update."),
        ("before_g_update", "It was renamed after_g_backward."),
        ("after_g_step", "It was renamed after_g_update."),
        ("before_epoch", "Did you mean before_step?"),  # not an event at all
    ],
)
def test_every_name_that_looks_like_an_event_must_be_one(name, hint):
    def handler(self, trainer):
        pass

    with pytest.raises(UsageError) as error:
        type("Watcher", (Callback,), {name: handler})
    message = str(error.value)
    assert f"Watcher.{name}: '{name}' is not a training event" in message
    assert hint in message and EVENT_LIST in message


def test_subclasses_and_their_helpers_are_accepted_and_checked_too(two_batches):
    class Grids(Callback):
        def __init__(self):
            self.steps = []

        def after_step(self, trainer):
            self._draw(trainer)

        def _draw(self, trainer):  # a helper: any name not before_* / after_*
            self.steps.append(trainer.step)

    class EpochGrids(Grids):
        def after_epoch(self, trainer):
            self._draw(trainer)

        def grab(self, trainer):
            self._draw(trainer)

    with pytest.raises(UsageError, match="Late.after_epohc.*Did you mean after_epoch"):

        class Late(EpochGrids):
            def after_epohc(self, trainer):
                pass

    grids = EpochGrids()
    make(two_batches, callbacks=[grids]).fit(steps=2)
    assert grids.steps == [1, 2, 2]  # after_step twice, after_epoch once


# ---------------------------------------------------------------- the trainer


def handler_for(event):
    def handler(self, trainer):
        self.seen.append((event, trainer.step))

    return handler


def every_event() -> Callback:
    """A callback with one method per Event, named from it; records (event, step)."""
    methods = {event.value: handler_for(event) for event in Event}
    watcher = type("EveryEvent", (Callback,), methods)()
    watcher.seen = []
    return watcher


def test_the_trainer_fires_every_event_in_the_order_defined(two_batches):
    watcher = every_event()
    make(two_batches, callbacks=[watcher]).fit(steps=2)
    one_step = [
        Event.before_step,
        Event.after_d_backward,
        Event.after_d_update,
        Event.after_g_backward,
        Event.after_g_update,
    ]
    expected = [
        (Event.before_fit, 0),
        *[(event, 0) for event in one_step],
        (Event.after_step, 1),
        *[(event, 1) for event in one_step],
        (Event.after_step, 2),
        (Event.after_epoch, 2),  # the second step used the epoch's last batch
        (Event.after_fit, 2),
    ]
    assert watcher.seen == expected
    first_seen = list(dict.fromkeys(event for event, _ in watcher.seen))
    assert first_seen == list(Event)  # every event, in the order Event lists them


def test_the_trainer_refuses_an_event_name_that_is_not_an_event(two_batches):
    trainer = make(two_batches)
    with pytest.raises(ValueError, match=r"Did you mean after_step\?") as error:
        trainer._event("after_stpe")
    assert not isinstance(error.value, UsageError)  # a typo in gancourse is a bug
    assert EVENT_LIST in str(error.value)


class Gradients(Callback):
    """What each backward event sees: weights as at the step's start, gradients set."""

    def __init__(self):
        self.rows = []

    def before_step(self, trainer):
        self.start = {"D": weights(trainer.D), "G": weights(trainer.G)}

    def _look(self, trainer, name, when):
        model = getattr(trainer, name)
        grads = [p.grad for p in model.parameters()]
        self.rows.append(
            {
                "when": when,
                "model": name,
                "unchanged": same(weights(model), self.start[name]),
                "grads set": all(g is not None for g in grads),
                "grads nonzero": any(g.abs().sum() > 0 for g in grads if g is not None),
            }
        )

    def after_d_backward(self, trainer):
        self._look(trainer, "D", "backward")

    def after_d_update(self, trainer):
        self._look(trainer, "D", "update")

    def after_g_backward(self, trainer):
        self._look(trainer, "G", "backward")

    def after_g_update(self, trainer):
        self._look(trainer, "G", "update")


def test_backward_events_see_gradients_before_the_optimiser_step(two_batches):
    watcher = Gradients()
    make(two_batches, callbacks=[watcher]).fit(steps=2)
    assert len(watcher.rows) == 8
    for row in watcher.rows:
        assert row["grads set"] and row["grads nonzero"], row
        assert row["unchanged"] == (row["when"] == "backward"), row


def test_gradients_zeroed_after_d_backward_leave_d_unchanged(two_batches):
    """The event comes before opt_d.step(): what it does to .grad is what Adam uses."""

    class Freeze(Callback):
        def after_d_backward(self, trainer):
            for p in trainer.D.parameters():
                p.grad.zero_()  # Adam's first step with a zero gradient moves nothing

    trainer = make(two_batches, callbacks=[Freeze()])
    d_before, g_before = weights(trainer.D), weights(trainer.G)
    trainer.fit(steps=1)
    assert same(weights(trainer.D), d_before)
    assert not same(weights(trainer.G), g_before)


# ---------------------------------------------------------------- history, record


class EvenSteps(Callback):
    """Records the norm of G's first weight at every second step."""

    def after_step(self, trainer):
        if trainer.step % 2 == 0:
            first = next(trainer.G.parameters())
            trainer.record("g_norm", first.detach().norm())


def test_record_keeps_a_figure_with_its_step(two_batches):
    trainer = make(two_batches, callbacks=[EvenSteps()])
    trainer.fit(steps=5)
    history = trainer.history
    assert history["g_norm_step"] == [2, 4]
    assert len(history["g_norm"]) == 2 and all(v > 0 for v in history["g_norm"])
    assert all(isinstance(v, float) for v in history["g_norm"])
    assert history["step"] == [1, 2, 3, 4, 5]
    for name in ("loss_d", "loss_g", "d_real", "d_fake"):
        assert len(history[name]) == 5, name  # the step's figures: one per step


@pytest.mark.parametrize("name", ["loss_d", "d_fake", "step", "g_norm_step"])
def test_record_refuses_names_the_trainer_keeps(two_batches, name):
    trainer = make(two_batches).fit(steps=1)
    with pytest.raises(UsageError, match=f"cannot record '{name}'"):
        trainer.record(name, 1.0)
    assert trainer.history["step"] == [1] and "step_step" not in trainer.history


def test_collapse_monitor_records_through_the_trainer(two_batches):
    monitor = CollapseMonitor(every=2, threshold=0.0, n=16)
    trainer = make(two_batches, callbacks=[monitor]).fit(steps=4)
    assert trainer.history["diversity_step"] == [2, 4]
    assert len(trainer.history["diversity"]) == 2
    assert not hasattr(trainer, "history_callback")


def test_history_csv_keeps_the_per_step_figures_only(two_batches, tmp_path):
    """gancourse.cli.run_folder writes the lists as long as history['step']."""
    monitor = CollapseMonitor(every=2, threshold=0.0, n=16)
    trainer = make(two_batches, callbacks=[monitor, EvenSteps()]).fit(steps=3)
    write_history(trainer.history, tmp_path / "history.csv")
    with open(tmp_path / "history.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0][0] == "step"
    assert set(rows[0]) == {"step", "loss_d", "loss_g", "d_real", "d_fake"}
    assert [row[0] for row in rows[1:]] == ["1", "2", "3"]


def test_history_csv_leaves_out_a_figure_recorded_at_every_step(two_batches, tmp_path):
    """A recorded figure is not a per-step column, even when its list is as long."""
    monitor = CollapseMonitor(every=1, threshold=0.0, n=16)
    trainer = make(two_batches, callbacks=[monitor]).fit(steps=2)
    assert len(trainer.history["diversity"]) == len(trainer.history["step"])
    write_history(trainer.history, tmp_path / "history.csv")
    header = (tmp_path / "history.csv").read_text().splitlines()[0].split(",")
    assert "diversity" not in header and "diversity_step" not in header
