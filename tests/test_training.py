"""GANTrainer's loop: D:G ratios, clipping, callbacks, epochs, validation, history."""

import copy
import math
import re
import threading

import pytest
import torch

import gancourse.training.trainer as trainer_module
from gancourse.data import load_dataset
from gancourse.data.base import ImageDataset
from gancourse.errors import GancourseError, UsageError, UsageTypeError
from gancourse.models import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
)
from gancourse.training import (
    KINDS,
    Callback,
    CancelFit,
    CollapseMonitor,
    EpochGrid,
    Event,
    GANTrainer,
    SampleGrid,
    TrainConfig,
    load_checkpoint,
    preset,
)
from gancourse.training.events import as_event

TINY = {"g": {"width": 8}, "d": {"width": 8}}
BASE_KEYS = {"loss_d", "loss_g", "d_real", "d_fake", "step"}


pytestmark = pytest.mark.usefixtures("one_thread")


def make(dataset, kind="dcgan", callbacks=(), **train) -> GANTrainer:
    """A tiny trainer on the CPU (width 8, batch 16) without a progress bar."""
    train.setdefault("batch_size", 16)
    return GANTrainer.from_preset(
        kind,
        dataset,
        **TINY,
        device="cpu",
        callbacks=list(callbacks),
        progress=False,
        **train,
    )


def indexed(mnist: ImageDataset, n: int) -> ImageDataset:
    """n MNIST images whose labels are their own index 0..n-1 (for DCGAN only)."""
    return ImageDataset("indexed", mnist.images[:n].clone(), torch.arange(n), ["x"])


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def snapshot(trainer: GANTrainer) -> dict:
    return copy.deepcopy({"G": trainer.G.state_dict(), "D": trainer.D.state_dict()})


def max_abs(model: torch.nn.Module) -> float:
    return max(p.detach().abs().max().item() for p in model.parameters())


def count_optimizer_steps(trainer: GANTrainer) -> dict[str, int]:
    """Counts of opt_d / opt_g steps, kept up to date by step post-hooks."""
    counts = {"d": 0, "g": 0}

    def counter(name):
        def hook(optimizer, args, kwargs):
            counts[name] += 1

        return hook

    trainer.opt_d.register_step_post_hook(counter("d"))
    trainer.opt_g.register_step_post_hook(counter("g"))
    return counts


def record_batches(trainer: GANTrainer) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every real batch the trainer draws, as (images, labels)."""
    batches = []
    draw = trainer.next_batch

    def next_batch():
        images, labels = draw()
        batches.append((images.clone(), labels.clone()))
        return images, labels

    trainer.next_batch = next_batch
    return batches


class Recorder(Callback):
    """Records the name of every event it receives."""

    def __init__(self):
        self.events: list[str] = []

    def __call__(self, event, trainer):
        self.events.append(event)


class At(Callback):
    """Calls `action(trainer)` at `event` when trainer.step == `step`."""

    def __init__(self, event, step, action):
        self.event, self.step, self.action = as_event(event), step, action

    def __call__(self, event, trainer):
        if event == self.event and trainer.step == self.step:
            self.action(trainer)


# ---------------------------------------------------------------- D:G ratio


@pytest.mark.parametrize(("d_steps", "g_steps"), [(5, 1), (1, 2)])
def test_optimiser_steps_follow_the_d_to_g_ratio(mnist, d_steps, g_steps):
    trainer = make(mnist, d_steps=d_steps, g_steps=g_steps)
    counts = count_optimizer_steps(trainer)
    batches = record_batches(trainer)
    trainer.fit(steps=3)
    assert counts == {"d": 3 * d_steps, "g": 3 * g_steps}
    assert trainer.step == 3
    assert len(batches) == 3 * d_steps  # each D update takes a new real batch


def test_changing_d_steps_mid_run_applies_from_the_next_step(mnist):
    trainer = make(mnist)
    counts = count_optimizer_steps(trainer)
    per_step = []

    class Change(Callback):
        def after_step(self, trainer):
            per_step.append(dict(counts))
            if trainer.step == 2:
                trainer.d_steps, trainer.g_steps = 3, 2

    trainer.add_callback(Change())
    trainer.fit(steps=4)
    done = [(c["d"], c["g"]) for c in per_step]
    assert done == [(1, 1), (2, 2), (5, 4), (8, 6)]
    assert trainer.config.d_steps == 3  # saved with the config


# ---------------------------------------------------------------- WGAN clipping


def test_wgan_clips_the_critic_after_its_optimiser_step(mnist):
    trainer = make(mnist, "wgan", lr_d=0.05, d_steps=3)
    clip = trainer.config.clip
    assert clip == 0.01
    after_optimiser, after_update = [], []
    trainer.opt_d.register_step_post_hook(
        lambda optimizer, args, kwargs: after_optimiser.append(max_abs(trainer.D))
    )

    class Watch(Callback):
        def after_d_update(self, trainer):
            after_update.append(max_abs(trainer.D))

    trainer.add_callback(Watch())
    trainer.fit(steps=2)
    assert len(after_optimiser) == len(after_update) == 6
    assert all(m <= clip for m in after_update), after_update
    # a big step pushes weights past the clip, which clipping then undoes;
    # [1:]: the first update starts from BatchNorm scales near 1, not clipped yet
    assert any(m > 2 * clip for m in after_optimiser[1:]), after_optimiser


# ---------------------------------------------------------------- one step


def test_d_update_leaves_g_alone_and_g_update_leaves_d_alone(mnist):
    trainer = make(mnist)
    g_before, d_before = weights(trainer.G), weights(trainer.D)
    trainer.d_update()
    assert same_tensors(weights(trainer.G), g_before)
    assert not same_tensors(weights(trainer.D), d_before)

    d_after, g_after = weights(trainer.D), weights(trainer.G)
    d_grads = {n: p.grad.clone() for n, p in trainer.D.named_parameters()}
    trainer.g_update()
    assert same_tensors(weights(trainer.D), d_after)
    assert not same_tensors(weights(trainer.G), g_after)
    # D was frozen: the G step added nothing to D's gradients ...
    assert same_tensors({n: p.grad for n, p in trainer.D.named_parameters()}, d_grads)
    # ... and D trains again afterwards
    assert all(p.requires_grad for p in trainer.D.parameters())


@pytest.mark.parametrize("kind", ["dcgan", "wgan-gp", "acgan"])
def test_d_update_sends_no_gradient_into_g(mnist, kind):
    """Fakes are detached in D's loss and penalty: no wasted backward through G."""
    trainer = make(mnist, kind, d_steps=1, g_steps=2)
    trainer.d_update()
    assert all(p.grad is None for p in trainer.G.parameters())
    g_before = weights(trainer.G)
    trainer.g_update()  # reuses the D update's fakes, so their graph must be whole
    trainer.g_update()  # a second G update draws new noise
    assert not same_tensors(weights(trainer.G), g_before)


def test_g_update_restores_requires_grad_when_it_fails(mnist, monkeypatch):
    trainer = make(mnist)

    def broken(*args):
        raise RuntimeError("broken loss")

    monkeypatch.setattr(trainer_module, "g_loss", broken)
    with pytest.raises(RuntimeError, match="broken loss"):
        trainer.g_update()
    assert all(p.requires_grad for p in trainer.D.parameters())


# ---------------------------------------------------------------- callbacks


def test_events_fire_in_order_with_d_and_g_steps_repeated(mnist):
    recorder = Recorder()
    # 32 images in batches of 16: two D updates use up one epoch
    trainer = make(indexed(mnist, 32), callbacks=[recorder], d_steps=2, g_steps=1)
    trainer.fit(steps=1)
    assert recorder.events == [
        "before_fit",
        "before_step",
        "after_d_backward",
        "after_d_update",
        "after_d_backward",
        "after_d_update",
        "after_g_backward",
        "after_g_update",
        "after_step",
        "after_epoch",
        "after_fit",
    ]
    assert all(isinstance(event, Event) for event in recorder.events)
    assert list(dict.fromkeys(recorder.events)) == list(Event)


def test_cancel_fit_stops_cleanly_and_after_fit_still_runs(mnist):
    recorder = Recorder()

    def cancel(trainer):
        raise CancelFit("enough for today")

    trainer = make(mnist, callbacks=[recorder, At("after_step", 2, cancel)])
    trainer.fit(steps=10)
    assert trainer.step == 2
    assert trainer.stop_reason == "enough for today"
    assert recorder.events[-1] == "after_fit"
    assert all(len(values) == 2 for values in trainer.history.values())
    trainer.fit(steps=1)  # a later fit starts afresh
    assert trainer.step == 3 and trainer.stop_reason is None


def test_stop_requested_stops_at_the_next_step(mnist):
    recorder = Recorder()

    def request(trainer):
        trainer.stop_requested = True

    trainer = make(mnist, callbacks=[recorder, At("after_step", 2, request)])
    trainer.fit(steps=10)
    assert trainer.step == 2
    assert trainer.stop_reason == "stopped on request"
    assert recorder.events.count("before_step") == 2
    assert recorder.events[-1] == "after_fit"


# ---------------------------------------------------------------- epochs


def epochs_of(batches, per_epoch: int) -> list[list[int]]:
    """The image indices used in each epoch (labels are indices here)."""
    indices = [i for _, labels in batches for i in labels.tolist()]
    return [indices[i : i + per_epoch] for i in range(0, len(indices), per_epoch)]


def test_each_epoch_uses_every_image_once_in_a_new_order(mnist):
    data = indexed(mnist, 96)  # 6 batches of 16
    epochs = Recorder()
    trainer = make(data, callbacks=[epochs])
    batches = record_batches(trainer)
    trainer.fit(epochs=1)
    assert trainer.step == 6 and trainer.epochs_done == 1
    trainer.fit(epochs=2)
    assert trainer.step == 18 and trainer.epochs_done == 3
    assert epochs.events.count("after_epoch") == 3
    orders = epochs_of(batches, 96)
    assert len(orders) == 3
    for order in orders:
        assert sorted(order) == list(range(96))
    assert orders[0] != orders[1] != orders[2]
    for images, labels in batches:  # images and labels stay together
        assert torch.equal(images, data.images[labels])


def test_images_left_over_by_the_last_batch_are_not_repeated(mnist):
    data = indexed(mnist, 100)  # 6 batches of 16; 4 images sit out each epoch
    trainer = make(data)
    batches = record_batches(trainer)
    trainer.fit(epochs=2)
    assert trainer.step == 12
    for order in epochs_of(batches, 96):
        assert len(set(order)) == 96


def test_fit_epochs_does_not_split_a_step_and_loses_no_batch(mnist):
    """d_steps=4 with 6 batches per epoch: 2 steps end epoch 1, 1 more epoch 2."""
    epochs = Recorder()
    trainer = make(indexed(mnist, 96), callbacks=[epochs], d_steps=4)
    batches = record_batches(trainer)
    trainer.fit(epochs=1)
    assert (trainer.step, len(batches), trainer.epochs_done) == (2, 8, 1)
    trainer.fit(epochs=1)
    assert (trainer.step, len(batches), trainer.epochs_done) == (3, 12, 2)
    assert epochs.events.count("after_epoch") == 2
    for order in epochs_of(batches, 96):
        assert sorted(order) == list(range(96))


def test_after_epoch_fires_for_every_epoch_even_inside_one_step(mnist):
    """2 batches per epoch and 5 D updates per step: one step ends 2 epochs."""
    epochs = Recorder()
    trainer = make(indexed(mnist, 32), callbacks=[epochs], d_steps=5)
    trainer.fit(steps=1)
    assert trainer.epochs_done == 2
    assert epochs.events.count("after_epoch") == 2


def test_epoch_grid_draws_once_per_epoch(mnist):
    grids = EpochGrid()
    trainer = make(indexed(mnist, 32), callbacks=[grids])
    trainer.fit(epochs=3)
    assert [step for step, _ in grids.grids] == [0, 2, 4, 6]  # start, 3 epochs


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kind", "settings", "message"),
    [
        ("dcgan", {"lr_d": 0}, "lr_d must be a number above 0"),
        ("dcgan", {"lr_g": -1e-4}, "lr_g must be a number above 0"),
        ("dcgan", {"lr_d": float("nan")}, "lr_d must be a number above 0"),
        ("dcgan", {"d_steps": 0}, "d_steps must be a whole number of at least 1"),
        ("dcgan", {"g_steps": 1.5}, "g_steps must be a whole number of at least 1"),
        ("dcgan", {"batch_size": 4001}, "4000 images, fewer than one batch"),
        ("dcgan", {"loss": "l2"}, "unknown loss 'l2'"),
        ("dcgan", {"optimizer": "sgd"}, "unknown optimizer 'sgd'"),
        ("dcgan", {"clip": 0}, "clip must be above 0"),
        ("dcgan", {"gp_weight": -1}, "gp_weight must be a number, 0 or more"),
        ("dcgan", {"amp": "yes"}, r"amp must be True \(bf16 autocast\), False or None"),
        ("began", {}, "unknown GAN kind 'began'"),
    ],
)
def test_bad_settings_raise_one_clear_error(mnist, kind, settings, message):
    with pytest.raises(GancourseError, match=message):
        make(mnist, kind, **settings)


def test_unknown_setting_names_the_setting(mnist):
    with pytest.raises(TypeError, match="TrainConfig has no setting 'lr'"):
        make(mnist, lr=1e-3)
    with pytest.raises(TypeError, match="GeneratorConfig has no setting 'widht'"):
        GANTrainer.from_preset("dcgan", mnist, g={"widht": 8})


def models(image_size=28, channels=1, conditioning="none", num_classes=0):
    torch.manual_seed(0)
    sizes = {"image_size": image_size, "channels": channels, "width": 8}
    labels = {"conditioning": conditioning, "num_classes": num_classes}
    return (
        Generator(GeneratorConfig(**sizes, **labels)),
        Discriminator(DiscriminatorConfig(**sizes, **labels)),
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("shapes at 32 px", r"shape \(3, 32, 32\) but the generator makes \(1, 28"),
        ("too many classes", "has 10 classes but the conditional model has 4"),
        ("bad config", "unknown GAN kind 'stylegan'"),
        ("batch too big", "fewer than one batch of 5000"),
    ],
)
def test_bad_data_or_config_fails_before_touching_the_models(mnist, case, message):
    data, config = mnist, TrainConfig()
    if case == "shapes at 32 px":
        data = load_dataset("shapes", image_size=32)
        G, D = models()
    elif case == "too many classes":
        G, D = models(conditioning="cgan", num_classes=4)
    else:
        G, D = models()
        if case == "bad config":
            config = TrainConfig(kind="stylegan")
        else:
            config = TrainConfig(batch_size=5000)
    g_before, d_before = weights(G), weights(D)
    with pytest.raises(UsageError, match=message):
        GANTrainer(G, D, data, config, device="cpu", progress=False)
    assert same_tensors(weights(G), g_before)
    assert same_tensors(weights(D), d_before)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "give fit either steps=N or epochs=N"),
        ({"steps": 2, "epochs": 1}, "give fit either steps=N or epochs=N"),
        ({"steps": 0}, "steps must be a whole number of at least 1, got 0"),
        ({"steps": 2.5}, "steps must be a whole number of at least 1"),
        ({"epochs": -1}, "epochs must be a whole number of at least 1"),
        ({"epochs": "2"}, "epochs must be a whole number of at least 1"),
    ],
)
def test_bad_fit_arguments_raise_before_training(mnist, arguments, message):
    recorder = Recorder()
    trainer = make(mnist, callbacks=[recorder])
    before = snapshot(trainer)
    with pytest.raises(GancourseError, match=message):
        trainer.fit(**arguments)
    assert recorder.events == [] and trainer.step == 0
    after = snapshot(trainer)
    assert same_tensors(after["G"], before["G"])
    assert same_tensors(after["D"], before["D"])


# ---------------------------------------------------------------- live settings


def test_learning_rates_change_the_optimisers_mid_run(mnist):
    trainer = make(mnist)
    used = []
    trainer.opt_d.register_step_post_hook(
        lambda optimizer, args, kwargs: used.append(optimizer.param_groups[0]["lr"])
    )

    def faster(trainer):
        trainer.lr_d = 1e-3

    trainer.add_callback(At("after_step", 1, faster))
    trainer.fit(steps=3)
    assert used == [2e-4, 1e-3, 1e-3]
    assert trainer.lr_d == trainer.config.lr_d == 1e-3
    trainer.lr_g = 5e-4
    assert [g["lr"] for g in trainer.opt_g.param_groups] == [5e-4]


@pytest.mark.parametrize(
    "value", [0, -1e-3, float("nan"), math.inf, "1e-3", None, True]
)
def test_a_bad_learning_rate_is_refused_and_the_old_one_kept(mnist, value):
    trainer = make(mnist)
    with pytest.raises(UsageError, match="lr_d must be a number above 0"):
        trainer.lr_d = value
    assert trainer.lr_d == trainer.config.lr_d == 2e-4


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "2", None, float("nan")])
def test_a_bad_step_count_is_refused_and_the_old_one_kept(mnist, value):
    trainer = make(mnist, g_steps=2)
    with pytest.raises(GancourseError, match="g_steps must be a whole number"):
        trainer.g_steps = value
    assert trainer.g_steps == trainer.config.g_steps == 2


# ---------------------------------------------------------------- NaN losses


def nan_at_call(monkeypatch, name: str, bad_call: int) -> None:
    """Make `name` ('d_loss' or 'g_loss') return NaN (with its graph) on one call."""
    real = getattr(trainer_module, name)
    calls = []

    def loss(*args):
        calls.append(1)
        value = real(*args)
        return value * math.nan if len(calls) == bad_call else value

    monkeypatch.setattr(trainer_module, name, loss)


class StepEnds(Callback):
    """The trainer's whole state at the end of every complete step."""

    order = 20  # after the built-in callbacks

    def __init__(self):
        self.last = None

    def after_step(self, trainer):
        self.last = copy.deepcopy(trainer.state())


def assert_same_run(trainer, expected: dict) -> None:
    """The trainer is exactly in `expected` (a trainer.state()): nothing half done."""
    now = trainer.state()
    assert now["step"] == expected["step"] and now["position"] == expected["position"]
    for part in ("generator", "discriminator"):
        for key, value in now[part].items():
            assert torch.equal(value, expected[part][key]), f"{part}.{key} changed"
    for part in ("opt_d", "opt_g"):
        assert now[part]["state"].keys() == expected[part]["state"].keys(), part
        for key, values in now[part]["state"].items():
            for name, value in values.items():
                assert torch.equal(value, expected[part]["state"][key][name]), part
    assert torch.equal(now["rng"]["noise"], expected["rng"]["noise"])
    assert torch.equal(now["rng"]["torch"], expected["rng"]["torch"])
    assert now["history"] == expected["history"]


@pytest.mark.parametrize(
    ("loss", "bad_call", "step", "who"),
    [("d_loss", 3, 3, "discriminator"), ("g_loss", 2, 2, "generator")],
)
def test_a_nan_loss_takes_back_the_whole_step(
    mnist, monkeypatch, capsys, loss, bad_call, step, who
):
    """A NaN in G's loss comes after D moved: D, opt_d, data and RNG go back too."""
    recorder, ends = Recorder(), StepEnds()
    trainer = make(mnist, callbacks=[recorder, ends])
    nan_at_call(monkeypatch, loss, bad_call)
    trainer.fit(steps=5)
    assert trainer.step == step - 1
    assert f"step {step}: the {who} loss is nan" in trainer.stop_reason
    assert f"state after step {step - 1} is kept" in trainer.stop_reason
    assert trainer.stop_reason in capsys.readouterr().err
    assert recorder.events[-1] == "after_fit"
    assert_same_run(trainer, ends.last)
    # and it trains on from there as if the bad step had never been tried
    monkeypatch.undo()
    again = make(mnist)
    again.fit(steps=step + 1)
    trainer.fit(steps=2)
    assert_same_run(trainer, again.state())


def test_the_first_step_taken_back_leaves_no_optimiser_state(mnist, monkeypatch):
    """Adam makes its moments in the first update: undoing it removes them."""
    nan_at_call(monkeypatch, "g_loss", 1)
    trainer = make(mnist)
    fresh = copy.deepcopy(trainer.state())
    trainer.fit(steps=3)
    assert trainer.step == 0 and not trainer.opt_d.state and not trainer.opt_g.state
    assert_same_run(trainer, fresh)


class InterruptAt(Callback):
    """Raises KeyboardInterrupt (Ctrl-C) at `event` of step `step` (1-based)."""

    def __init__(self, event, step):
        self.event, self.step = event, step

    def __call__(self, event, trainer):
        if event == self.event and trainer.step == self.step - 1:
            raise KeyboardInterrupt


@pytest.mark.parametrize("event", ["after_d_update", "after_g_backward", "before_step"])
def test_ctrl_c_inside_a_step_leaves_the_last_complete_step(mnist, event):
    ends = StepEnds()
    trainer = make(mnist, callbacks=[ends, InterruptAt(event, 3)])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(steps=5)
    assert trainer.step == 2 and not trainer.fitting
    assert_same_run(trainer, ends.last)


def test_save_and_generate_from_another_thread_wait_for_the_step(mnist, tmp_path):
    """The live panel trains in a thread: a cell's save() must not catch a half step."""
    inside, release = threading.Event(), threading.Event()

    class Hold(Callback):
        def after_d_update(self, trainer):
            if trainer.step == 1:  # step 2: D has moved, G not yet
                inside.set()
                release.wait(10)

    trainer = make(mnist, callbacks=[Hold()])
    worker = threading.Thread(target=trainer.fit, kwargs={"steps": 3})
    worker.start()
    assert inside.wait(30)
    path = tmp_path / "checkpoint.pt"
    reader = threading.Thread(target=trainer.save, args=(path,))
    reader.start()
    reader.join(0.3)
    assert reader.is_alive(), "save() wrote the trainer in the middle of a step"
    release.set()
    reader.join(30)
    worker.join(30)
    # the file was written under the lock: its tensors are those of one step's end
    state = load_checkpoint(path)
    d_steps = {int(s["step"]) for s in state["opt_d"]["state"].values()}
    g_steps = {int(s["step"]) for s in state["opt_g"]["state"].values()}
    assert d_steps == g_steps == {state["step"]}  # a step boundary


def test_a_diverging_run_stops_and_keeps_a_usable_model(mnist, capsys):
    trainer = make(mnist, lr_d=1e30, lr_g=1e30)
    trainer.fit(steps=20)
    assert trainer.stop_reason is not None
    assert "loss is" in trainer.stop_reason and "Lower the learning" in (
        trainer.stop_reason
    )
    assert "training stopped at step" in capsys.readouterr().err
    for model in (trainer.G, trainer.D):
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                assert torch.isfinite(value).all(), key
    assert torch.isfinite(trainer.generate(4)).all()  # eval mode: running stats


# ---------------------------------------------------------------- history


EXTRA_KEYS = {
    "dcgan": set(),
    "wgan": {"wasserstein"},
    "wgan-gp": {"wasserstein", "gp"},
    "cgan": set(),
    "acgan": {"class_acc"},
}


@pytest.mark.parametrize("kind", KINDS)
def test_history_has_one_value_per_step_for_each_kind(mnist, kind):
    trainer = make(mnist, kind, d_steps=1)
    trainer.fit(steps=3)
    history = trainer.history
    assert set(history) == BASE_KEYS | EXTRA_KEYS[kind]
    assert all(len(values) == 3 for values in history.values())
    assert history["step"] == [1, 2, 3]
    assert all(math.isfinite(v) for values in history.values() for v in values)
    if trainer.config.loss in ("minimax", "non-saturating"):
        for key in ("d_real", "d_fake"):
            assert all(0 <= v <= 1 for v in history[key]), key
    if "wasserstein" in history:
        difference = [
            r - f for r, f in zip(history["d_real"], history["d_fake"], strict=True)
        ]
        assert history["wasserstein"] == pytest.approx(difference, abs=1e-5)
    if "gp" in history:
        assert all(v >= 0 for v in history["gp"])
    if "class_acc" in history:
        assert all(0 <= v <= 1 for v in history["class_acc"])


def test_collapse_monitor_adds_diversity_to_history(mnist):
    monitor = CollapseMonitor(every=2, threshold=10.0)  # any G counts as collapsed
    trainer = make(mnist, callbacks=[monitor])
    trainer.fit(steps=4)
    assert trainer.history["diversity_step"] == [2, 4]
    assert len(trainer.history["diversity"]) == 2
    assert all(v > 0 for v in trainer.history["diversity"])
    assert len(monitor.warnings) == 2 and "mode collapse" in monitor.warnings[0]


def test_collapse_monitor_compares_with_a_random_sample_of_real_images(mnist):
    """The shipped data is sorted by class: the first 64 images are not typical."""
    images = mnist.images.clone()
    images[:64] = images[0]  # the first 64 images are all one picture
    data = ImageDataset("copies", images, mnist.labels, mnist.classes)
    monitor = CollapseMonitor(every=1)
    make(data, callbacks=[monitor]).fit(steps=1)
    index = torch.randperm(4000, generator=torch.Generator().manual_seed(1))[:64]
    typical = CollapseMonitor.spread(mnist.images[index])
    assert monitor.real_spread == pytest.approx(typical, rel=0.2)


# ---------------------------------------------------------------- samples, seeds


def test_from_preset_with_one_seed_gives_the_same_start(mnist):
    first, second = make(mnist, "cgan"), make(mnist, "cgan")
    torch.manual_seed(123)  # global RNG use in between must not matter
    third = make(mnist, "cgan")
    for other in (second, third):
        assert same_tensors(first.G.state_dict(), other.G.state_dict())
        assert same_tensors(first.D.state_dict(), other.D.state_dict())
        assert torch.equal(first.fixed_noise, other.fixed_noise)
    reseeded = make(mnist, "cgan", seed=1)
    assert not same_tensors(first.G.state_dict(), reseeded.G.state_dict())


def test_generate_and_fixed_samples(mnist):
    trainer = make(mnist, "cgan", n_fixed=12)
    images = trainer.generate(5, labels=torch.tensor([0, 1, 2, 3, 9]))
    assert images.shape == (5, 1, 28, 28) and images.device.type == "cpu"
    assert images.min() >= -1 and images.max() <= 1
    assert trainer.G.training  # back in training mode
    assert torch.equal(trainer.fixed_samples(), trainer.fixed_samples())
    assert trainer.fixed_labels.tolist() == [i % 10 for i in range(12)]


def test_sample_grid_draws_at_the_start_every_n_steps_and_at_the_end(mnist):
    grids = SampleGrid(every=2)
    trainer = make(mnist, callbacks=[grids], n_fixed=16)
    trainer.fit(steps=5)
    assert [step for step, _ in grids.grids] == [0, 2, 4, 5]
    grid = grids.grids[-1][1]
    assert grid.shape[0] == 3 and 0 <= grid.min() and grid.max() <= 1


# ---------------------------------------------------------------- config


def test_train_config_round_trips_through_a_dict():
    config = TrainConfig(kind="wgan-gp", betas=(0.0, 0.9), d_steps=5, gp_weight=10)
    values = config.to_dict()
    assert values["betas"] == [0.0, 0.9]
    assert TrainConfig.from_dict({**values, "from_the_future": 1}) == config


def test_presets_follow_the_papers():
    wgan = preset("wgan").train
    assert (wgan.loss, wgan.optimizer, wgan.lr_d, wgan.clip, wgan.d_steps) == (
        "wasserstein",
        "rmsprop",
        5e-5,
        0.01,
        5,
    )
    gp = preset("wgan-gp")
    assert (gp.train.betas, gp.train.gp_weight, gp.train.d_steps) == ((0.0, 0.9), 10, 5)
    assert gp.discriminator.batchnorm is False
    acgan = preset("acgan", num_classes=10)
    assert acgan.generator.embed_dim == 100 and acgan.train.lr_d == 1.5e-4
    assert acgan.discriminator.num_classes == 10
    assert preset("dcgan", num_classes=10).generator.num_classes == 0


# ---------------------------------------------------------------- mixed precision


@pytest.mark.parametrize(
    ("kind", "amp", "dtype"),
    [
        ("dcgan", None, torch.float32),  # the default on a CPU: float32
        ("dcgan", False, torch.float32),
        ("dcgan", True, torch.bfloat16),
        ("wgan-gp", True, torch.bfloat16),  # the penalty's double backward too
    ],
)
def test_amp_on_a_cpu_is_off_by_default_and_bf16_when_asked(mnist, kind, amp, dtype):
    trainer = make(mnist, kind, amp=amp, d_steps=1)
    assert trainer.amp is (amp is True)
    dtypes = set()
    first_conv = next(
        m for m in trainer.G.modules() if isinstance(m, torch.nn.ConvTranspose2d)
    )
    first_conv.register_forward_hook(lambda module, args, out: dtypes.add(out.dtype))
    trainer.fit(steps=2)
    assert dtypes == {dtype}
    assert all(p.dtype == torch.float32 for p in trainer.G.parameters())
    assert all(p.dtype == torch.float32 for p in trainer.D.parameters())
    assert all(math.isfinite(v) for v in trainer.history["loss_d"])
    assert all(math.isfinite(v) for v in trainer.history["loss_g"])
    assert trainer.generate(4).dtype == torch.float32


def test_amp_is_refused_on_a_device_without_bf16_autocast(mnist, monkeypatch):
    monkeypatch.setattr(
        trainer_module, "get_device", lambda name=None: torch.device("mps")
    )
    with pytest.raises(UsageError, match="amp=True .* not on mps"):
        make(mnist, amp=True)


# ---------------------------------------------------------------- wrong arguments


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"batch_size": 16.0},
            "batch_size must be a whole number of at least 1 (an int)",
        ),
        ({"g": {"width": "16"}}, "width must be a whole number, got '16'"),
        ({"d": {"spectral_norm": "yes"}}, "spectral_norm must be True or False"),
        ({"lr_d": 1e300}, "lr_d must be a number above 0 and at most 1e+38"),
        ({"g": {"width": 100_000}, "d": {"width": 100_000}}, "GiB, and this cpu has"),
    ],
)
def test_wrong_settings_are_one_clear_error_before_building(mnist, options, message):
    train = {k: v for k, v in options.items() if k not in ("g", "d")}
    with pytest.raises(GancourseError, match=re.escape(message)):
        GANTrainer.from_preset(
            "dcgan",
            mnist,
            g={**TINY["g"], **options.get("g", {})},
            d={**TINY["d"], **options.get("d", {})},
            progress=False,
            **train,
        )


def test_a_conditional_g_and_d_must_know_the_same_classes(mnist):
    g = Generator(GeneratorConfig(width=8, conditioning="cgan", num_classes=10))
    d = Discriminator(DiscriminatorConfig(width=8, conditioning="cgan", num_classes=5))
    with pytest.raises(
        UsageError,
        match="generator is cgan with 10 classes but the discriminator is cgan with 5",
    ):
        GANTrainer(g, d, mnist, progress=False)


@pytest.mark.parametrize(
    ("n", "labels", "error", "message"),
    [
        (-1, None, UsageError, "n must be a whole number of at least 1"),
        (2.0, None, UsageTypeError, "n must be a whole number of at least 1 (an int)"),
        (3, [1, 2, 3], UsageTypeError, "labels must be a tensor of class indices"),
        (3, torch.tensor([0, 1, 10]), UsageError, "labels must lie in 0..9"),
        (3, torch.tensor([0, -1, 2]), UsageError, "labels must lie in 0..9"),
        (3, torch.tensor([0.0, 1.0, 2.0]), UsageError, "3 whole class indices"),
        (3, torch.tensor([0, 1]), UsageError, "shape (3,)"),
    ],
)
def test_generate_refuses_bad_counts_and_labels(mnist, n, labels, error, message):
    trainer = make(mnist, kind="cgan")
    rng = trainer.noise_rng.get_state()
    with pytest.raises(error, match=re.escape(message)):
        trainer.generate(n, labels)
    assert torch.equal(trainer.noise_rng.get_state(), rng)  # refused before drawing


def test_an_unconditional_generate_refuses_labels(mnist):
    with pytest.raises(UsageError, match="labels= is for conditional GANs"):
        make(mnist).generate(2, torch.tensor([0, 1]))
