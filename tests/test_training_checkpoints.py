"""GANTrainer checkpoints: atomic saves, clear load errors, exact resume, fine-tunes."""

import random

import pytest
import torch

from gancourse.data import load_dataset
from gancourse.data.base import ImageDataset
from gancourse.training import (
    Callback,
    CheckpointError,
    Checkpoints,
    CollapseMonitor,
    GANTrainer,
    SampleGrid,
    load_checkpoint,
    models_from_state,
)
from gancourse.training.checkpoint import save_atomic

TINY = {"g": {"width": 8}, "d": {"width": 8}}
KEYS = {
    "kind",
    "generator_config",
    "discriminator_config",
    "train_config",
    "generator",
    "discriminator",
    "opt_g",
    "opt_d",
    "rng",
    "position",
    "step",
    "history",
    "dataset",
}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def small(mnist) -> ImageDataset:
    """64 MNIST images of every class (4 batches of 16), flipped at random."""
    index = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(0))
    index = index[:64]
    return ImageDataset(
        "mnist-5k", mnist.images[index], mnist.labels[index], mnist.classes, flip=True
    )


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


def max_difference(a, b, where="") -> float:
    """Largest absolute difference between two nested states; other values equal."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape, where
        if a.numel() == 0:
            return 0.0
        return (a.double() - b.double()).abs().max().item()
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        return max([max_difference(a[k], b[k], f"{where}.{k}") for k in a] or [0.0])
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        return max(
            [max_difference(x, y, f"{where}[]") for x, y in zip(a, b, strict=True)]
            or [0.0]
        )
    if isinstance(a, float):
        return abs(a - b)
    assert a == b, f"{where}: {a!r} != {b!r}"
    return 0.0


def assert_same_run(resumed: GANTrainer, reference: GANTrainer) -> None:
    """Weights, buffers, optimisers, history and position agree to 1e-6."""
    pairs = {
        "G": (resumed.G.state_dict(), reference.G.state_dict()),
        "D": (resumed.D.state_dict(), reference.D.state_dict()),
        "opt_g": (resumed.opt_g.state_dict(), reference.opt_g.state_dict()),
        "opt_d": (resumed.opt_d.state_dict(), reference.opt_d.state_dict()),
        "history": (dict(resumed.history), dict(reference.history)),
    }
    for name, (a, b) in pairs.items():
        assert max_difference(a, b, name) <= 1e-6, name
    assert resumed.config == reference.config
    position = (resumed.step, resumed.epoch, resumed.batch_in_epoch)
    assert position == (reference.step, reference.epoch, reference.batch_in_epoch)


def watchers():
    return [SampleGrid(every=2, nrow=4), CollapseMonitor(every=2, n=16)]


# ---------------------------------------------------------------- exact resume


@pytest.mark.parametrize("kind", ["dcgan", "wgan-gp", "acgan", "cgan"])
def test_resume_continues_exactly_like_an_uninterrupted_run(small, tmp_path, kind):
    d_steps = 2 if kind == "wgan-gp" else 1  # 5 critic steps is slow on a CPU
    later = 3 - d_steps  # d_steps is changed mid-run, before the save

    def start() -> GANTrainer:
        trainer = make(small, kind, callbacks=watchers(), d_steps=d_steps)
        trainer.fit(steps=2)
        trainer.d_steps = later
        trainer.lr_d = trainer.lr_d / 2
        return trainer

    reference = start().fit(steps=5)

    first = start().fit(steps=1)
    saved_at = (first.epoch, first.batch_in_epoch)
    first.save(tmp_path / "checkpoint.pt")
    del first
    resumed = GANTrainer.resume(
        tmp_path / "checkpoint.pt",
        small,
        device="cpu",
        callbacks=watchers(),
        progress=False,
    )
    assert resumed.d_steps == later and resumed.lr_d == reference.lr_d
    resumed.fit(steps=4)
    # the resumed part began a new epoch (4 batches per epoch)
    assert resumed.epoch > saved_at[0]
    assert_same_run(resumed, reference)
    assert "diversity" in resumed.history


def test_resume_checks_that_the_run_really_depends_on_its_state(small, tmp_path):
    """A fresh trainer fed only the checkpoint's weights drifts from the real run."""
    reference = make(small).fit(steps=3)
    first = make(small).fit(steps=1)
    path = first.save(tmp_path / "checkpoint.pt")
    restarted = make(small)
    state = load_checkpoint(path)
    restarted.G.load_state_dict(state["generator"])
    restarted.D.load_state_dict(state["discriminator"])
    restarted.fit(steps=2)
    difference = max_difference(restarted.G.state_dict(), reference.G.state_dict(), "G")
    assert difference > 1e-4


def test_checkpoints_callback_saves_during_and_after_fit(small, tmp_path):
    saver = Checkpoints(tmp_path / "run", every=2)
    during = []

    class Peek(Callback):
        order = 20  # after Checkpoints

        def after_step(self, trainer):
            exists = saver.path.exists()
            during.append(load_checkpoint(saver.path) if exists else None)

    trainer = make(small, callbacks=[saver, Peek()])
    trainer.fit(steps=3)
    assert during[0] is None and during[2]["step"] == 2
    assert len(during[1]["history"]["loss_d"]) == 2  # this step's figures are in
    state = load_checkpoint(saver.path)
    assert state["step"] == 3 and len(state["history"]["loss_d"]) == 3
    resumed = GANTrainer.resume(saver.path, small, device="cpu", progress=False)
    assert_same_run(resumed, trainer)


def test_resume_and_fine_tune_build_the_class_they_are_called_on(small, tmp_path):
    class Mine(GANTrainer):
        """A trainer subclass, as a student might write."""

    path = make(small).fit(steps=1).save(tmp_path / "checkpoint.pt")
    resumed = Mine.resume(path, small, device="cpu", progress=False)
    tuned = Mine.fine_tune(path, small, device="cpu", progress=False, lr_g=1e-3)
    assert type(resumed) is Mine and resumed.step == 1
    assert type(tuned) is Mine and tuned.step == 0 and tuned.lr_g == 1e-3


def test_resume_with_other_data_is_refused(small, mnist, tmp_path):
    path = make(small).save(tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="resume with the same data"):
        GANTrainer.resume(path, mnist, device="cpu", progress=False)


# ---------------------------------------------------------------- fine-tuning


@pytest.mark.parametrize("kind", ["dcgan", "cgan"])
def test_fine_tune_starts_from_the_weights_with_fresh_optimisers(mnist, tmp_path, kind):
    trainer = make(mnist, kind).fit(steps=2)
    path = trainer.save(tmp_path / "checkpoint.pt")
    # a conditional model keeps its label numbers: a leading subset of its classes
    threes = load_dataset("mnist-5k", classes=["3"] if kind == "dcgan" else ["0", "1"])
    tuned = GANTrainer.fine_tune(path, threes, device="cpu", progress=False, lr_g=1e-3)
    state = load_checkpoint(path)
    assert max_difference(tuned.G.state_dict(), state["generator"]) == 0
    assert max_difference(tuned.D.state_dict(), state["discriminator"]) == 0
    assert tuned.opt_g.state_dict()["state"] == {}
    assert tuned.opt_d.state_dict()["state"] == {}
    assert (tuned.step, tuned.epoch, tuned.batch_in_epoch) == (0, 0, 0)
    assert dict(tuned.history) == {}
    assert (tuned.lr_g, tuned.lr_d) == (1e-3, trainer.lr_d)

    reals = []
    draw = tuned.next_batch

    def next_batch():
        images, labels = draw()
        reals.append(images)
        return images, labels

    tuned.next_batch = next_batch
    tuned.fit(steps=2)
    assert tuned.step == 2 and len(tuned.history["loss_d"]) == 2
    assert max_difference(tuned.G.state_dict(), state["generator"]) > 0
    # every real image came from the 3s
    for images in reals:
        same = (images[:, None] == threes.images[None]).flatten(2).all(dim=2)
        assert same.any(dim=1).all()  # (16, 400): each real matches one 3


def test_fine_tune_refuses_an_unknown_setting(small, tmp_path):
    path = make(small).save(tmp_path / "checkpoint.pt")
    with pytest.raises(TypeError, match="TrainConfig has no setting 'learning_rate'"):
        GANTrainer.fine_tune(path, small, learning_rate=1e-3)


# ---------------------------------------------------------------- files


def test_checkpoint_holds_everything_a_resume_needs(small, tmp_path):
    trainer = make(small, "acgan").fit(steps=1)
    state = load_checkpoint(trainer.save(tmp_path / "checkpoint.pt"))
    assert KEYS <= state.keys()
    assert state["kind"] == "acgan" and state["step"] == 1
    assert state["dataset"]["flip"] is True
    G, D = models_from_state(state)
    assert max_difference(G.state_dict(), trainer.G.state_dict()) == 0
    assert max_difference(D.state_dict(), trainer.D.state_dict()) == 0


def test_a_failed_save_keeps_the_old_checkpoint_and_no_temporary(
    small, tmp_path, monkeypatch
):
    trainer = make(small)
    path = trainer.save(tmp_path / "checkpoint.pt")
    before = path.read_bytes()
    trainer.fit(steps=1)

    def disk_full(obj, file, *args, **kwargs):
        file.write(b"half a checkpoint")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        trainer.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 0


def test_a_save_writes_no_temporary_file_beside_it(small, tmp_path):
    make(small).save(tmp_path / "checkpoint.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("truncated", "not a readable checkpoint .* corrupt or truncated"),
        ("random bytes", "not a readable checkpoint .* corrupt or truncated"),
        ("other torch file", "not a gancourse GAN checkpoint"),
        ("empty", "not a readable checkpoint"),
    ],
)
def test_load_checkpoint_refuses_a_bad_file(small, tmp_path, content, message):
    path = tmp_path / "checkpoint.pt"
    if content == "truncated":
        make(small).save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif content == "random bytes":
        path.write_bytes(random.Random(0).randbytes(5000))
    elif content == "other torch file":
        torch.save({"a": 1}, path)
    else:
        path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)
    with pytest.raises(CheckpointError):
        GANTrainer.resume(path, small, device="cpu", progress=False)


def test_load_checkpoint_of_a_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nothing.pt")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path)  # a folder is not a checkpoint


def test_a_checkpoint_for_another_model_gives_a_checkpoint_error(small, tmp_path):
    state = load_checkpoint(make(small).save(tmp_path / "checkpoint.pt"))
    state["generator_config"]["width"] = 16  # weights no longer fit the config
    with pytest.raises(CheckpointError, match="does not hold a model"):
        models_from_state(state)


def test_a_dataset_name_saved_in_an_old_spelling_still_resumes(small, tmp_path):
    state = make(small).fit(steps=1).state()
    state["dataset"]["name"] = "MNIST_5K"  # as an older version might have spelt it
    old = save_atomic(state, tmp_path / "old.pt")
    resumed = GANTrainer.resume(old, small, device="cpu", progress=False)
    assert resumed.step == 1
    state["dataset"]["name"] = "mnist-6k"
    other = save_atomic(state, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="was trained on 'mnist-6k'"):
        GANTrainer.resume(other, small, device="cpu", progress=False)


@pytest.mark.parametrize("classes", [["3"], ["3", "5"], ["1", "0"]])
def test_a_conditional_model_is_not_fine_tuned_onto_other_label_numbers(
    mnist, tmp_path, classes
):
    """Label 0 of a 10-class CGAN draws 0s: data relabelled 3 -> 0 would retrain it."""
    path = make(mnist, "cgan").fit(steps=1).save(tmp_path / "checkpoint.pt")
    data = load_dataset("mnist-5k", classes=classes)
    with pytest.raises(CheckpointError, match="would teach its labels other classes"):
        GANTrainer.fine_tune(path, data, device="cpu", progress=False)
