"""The shipped pretrained GANs: small, loadable in one call, and good at their job."""

import subprocess
import sys

import pytest
import torch

from gancourse import runtime
from gancourse.data import load_dataset
from gancourse.metrics.classifier import classifier_accuracy, load_classifier, predict
from gancourse.pretrained import (
    PRETRAINED,
    export_weights,
    load_pretrained,
    load_pretrained_generator,
    pretrained_path,
    restore_hint,
)
from gancourse.runtime import REPO_DIR
from gancourse.training import CheckpointError, GANTrainer, load_checkpoint

pytestmark = pytest.mark.usefixtures("one_thread")


# name -> (kind, dataset, split, image shape): what each shipped file must be
SHIPPED = {
    "dcgan": ("dcgan", "mnist-5k", "train", (1, 28, 28)),
    "wgan-gp": ("wgan-gp", "mnist-5k", "train", (1, 28, 28)),
    "cgan": ("cgan", "mnist-5k", "train", (1, 28, 28)),
    "acgan": ("acgan", "mnist-5k", "train", (1, 28, 28)),
    "wgan": ("wgan", "mnist-5k", "train", (1, 28, 28)),
    "dcgan-32": ("dcgan", "mnist-5k", "train", (1, 28, 28)),
    "dcgan-32-no-bn": ("dcgan", "mnist-5k", "train", (1, 28, 28)),
    "dcgan-shapes": ("dcgan", "shapes", "train", (3, 32, 32)),
    "circles": ("dcgan", "shapes", "train+test", (3, 32, 32)),
}


def test_every_shipped_model_is_described_here():
    assert set(SHIPPED) == set(PRETRAINED)


@pytest.mark.parametrize("name", list(PRETRAINED))
def test_each_shipped_model_is_small_and_records_how_it_was_made(name):
    kind, dataset, split, _ = SHIPPED[name]
    path = pretrained_path(name)
    assert path.stat().st_size < 3 * 2**20  # a few MB at most
    state = load_checkpoint(path)
    assert state["weights_only"] and "opt_g" not in state
    assert state["kind"] == kind
    assert state["dataset"]["name"] == dataset
    assert state["dataset"]["split"] == split  # mnist-5k's test split stays held out
    assert any(f"train {kind} --dataset {dataset}" in c for c in state["commands"])
    readme = (REPO_DIR / "data" / "pretrained" / "README.md").read_text()
    assert f"`{path.name}`" in readme
    for command in state["commands"]:
        assert command in readme


@pytest.mark.parametrize("name", list(PRETRAINED))
def test_load_pretrained_gives_a_trained_trainer(name):
    trainer = load_pretrained(name, device="cpu", progress=False)
    assert isinstance(trainer, GANTrainer)
    assert trainer.step > 1000 and len(trainer.history["loss_d"]) == trainer.step
    images = trainer.generate(16)
    assert images.shape == (16, *SHIPPED[name][3])
    assert images.min() >= -1 and images.max() <= 1
    trainer.fit(steps=1)  # fresh optimisers: it can go on training at once
    assert trainer.step == len(trainer.history["loss_d"])


def test_an_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="dcgan, wgan-gp, cgan, acgan"):
        pretrained_path("stylegan")


def test_a_weights_only_file_cannot_be_resumed():
    with pytest.raises(CheckpointError, match="fine_tune"):
        GANTrainer.resume(pretrained_path("dcgan"), load_dataset("mnist-5k"))


# the clipped WGAN is the weakest (FID 9.4 against 4.4): its rarest digit is 1.4%
@pytest.mark.parametrize(
    ("name", "least"), [("dcgan", 10), ("dcgan-32", 10), ("wgan", 5), ("wgan-gp", 10)]
)
def test_each_pretrained_digit_gan_draws_digits_of_every_class(name, least):
    G = load_pretrained_generator(name, device="cpu")
    with torch.no_grad():
        images = G(G.sample_noise(500, "cpu", torch.Generator().manual_seed(0)))
    counts = torch.bincount(predict(load_classifier("mnist-5k"), images), minlength=10)
    assert (counts >= least).all(), counts  # no digit is missing: no mode collapse


def test_the_pretrained_cgan_draws_the_digits_asked_for():
    G = load_pretrained_generator("cgan", device="cpu")
    labels = torch.arange(10).repeat(50)  # (500,)
    with torch.no_grad():
        z = G.sample_noise(len(labels), "cpu", torch.Generator().manual_seed(0))
        images = G(z, labels)
    assert classifier_accuracy(load_classifier("mnist-5k"), images, labels) >= 0.95


def test_the_pretrained_acgan_speaks_a_code_of_its_own():
    """Notebook 08's lesson: D's class head agrees with G, the judge does not."""
    trainer = load_pretrained("acgan", device="cpu", progress=False)
    labels = torch.arange(10).repeat(50)  # (500,)
    images = trainer.generate(len(labels), labels)
    trainer.D.eval()
    with torch.no_grad():
        _, class_logits = trainer.D(images)
    assert (class_logits.argmax(1) == labels).float().mean() > 0.95
    assert classifier_accuracy(load_classifier("mnist-5k"), images, labels) < 0.2
    seen = predict(load_classifier("mnist-5k"), images)
    assert len(seen.unique()) >= 7  # crisp digits of many kinds, not one blob


def test_without_batchnorm_the_same_recipe_learns_far_less():
    """06's pair: the same DCGAN and budget, BatchNorm on and off."""
    judge = load_classifier("mnist-5k")
    seen = {}
    for name in ("dcgan-32", "dcgan-32-no-bn"):
        G = load_pretrained_generator(name, device="cpu")
        assert any(isinstance(m, torch.nn.BatchNorm2d) for m in G.modules()) == (
            name == "dcgan-32"
        )
        with torch.no_grad():
            images = G(G.sample_noise(500, "cpu", torch.Generator().manual_seed(0)))
        seen[name] = torch.bincount(predict(judge, images), minlength=10)
    assert (seen["dcgan-32"] >= 10).all()
    assert (seen["dcgan-32-no-bn"] >= 10).sum() < (seen["dcgan-32"] >= 10).sum()


# dcgan-shapes' outlines are still forming: the judge sees mostly crosses, some
# triangles and squares (data/pretrained/README.md)
@pytest.mark.parametrize(("name", "least"), [("dcgan-shapes", 3), ("circles", 1)])
def test_each_pretrained_shapes_gan_draws_its_shapes(name, least):
    G = load_pretrained_generator(name, device="cpu")
    with torch.no_grad():
        images = G(G.sample_noise(500, "cpu", torch.Generator().manual_seed(0)))
    counts = torch.bincount(predict(load_classifier("shapes"), images), minlength=4)
    assert (counts >= 25).sum() >= least, counts
    if name == "circles":
        assert counts[0] >= 0.7 * len(images), counts  # judged circles, mostly


@pytest.fixture(scope="module")
def run(tmp_path_factory, mnist):
    """A tiny CLI run folder with checkpoint.pt and config.json."""
    folder = tmp_path_factory.mktemp("run")
    command = [
        sys.executable, "-m", "gancourse", "train", "dcgan", "--dataset", "mnist-5k",
        "--steps", "3", "--width", "8", "--out", str(folder), "--quiet",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return folder


def test_export_keeps_the_model_at_half_the_size(run, tmp_path):
    out = export_weights(run / "checkpoint.pt", tmp_path / "small.pt")
    full, small = load_checkpoint(run / "checkpoint.pt"), load_checkpoint(out)
    assert out.stat().st_size < 0.5 * (run / "checkpoint.pt").stat().st_size
    assert small["generator"]["project.1.weight"].dtype == torch.float16
    assert small["dataset"]["split"] == "train" and small["step"] == 3
    assert small["commands"][0].startswith("python -m gancourse train dcgan")
    for key, value in full["generator"].items():
        assert torch.allclose(small["generator"][key].float(), value.float(), atol=1e-3)


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "gancourse", "export", *map(str, args)],
        capture_output=True,
        text=True,
    )


def test_export_command_refuses_to_overwrite(run, tmp_path):
    out = tmp_path / "small.pt"
    assert _cli(run / "checkpoint.pt", out).returncode == 0
    before = out.read_bytes()
    result = _cli(run / "checkpoint.pt", out)
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert out.read_bytes() == before
    assert _cli(run / "checkpoint.pt", tmp_path / "x.png").returncode == 2
    assert _cli(out, tmp_path / "again.pt").returncode == 2  # already weights-only


@pytest.mark.parametrize("load", [load_pretrained, load_pretrained_generator])
def test_a_missing_shipped_model_says_how_to_restore_it(tmp_path, monkeypatch, load):
    monkeypatch.setattr(runtime, "PRETRAINED_DIR", tmp_path)
    with pytest.raises(CheckpointError) as caught:
        load("dcgan")
    message = str(caught.value)
    assert "the pretrained dcgan model is missing" in message
    assert "ships with the course" in message and "checkpoint.pt" not in message
    assert f"`git checkout -- {tmp_path / 'dcgan_mnist-5k.pt'}`" in message


def test_the_restore_hint_names_the_file_as_the_clone_has_it():
    hint = restore_hint(pretrained_path("cgan"))
    assert "`git checkout -- data/pretrained/cgan_mnist-5k.pt`" in hint


def test_a_damaged_shipped_model_says_how_to_restore_it(tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "PRETRAINED_DIR", tmp_path)
    (tmp_path / PRETRAINED["dcgan"]).write_text("version https://git-lfs...")
    with pytest.raises(CheckpointError, match="damaged .*`git checkout -- "):
        load_pretrained_generator("dcgan")


def test_export_weights_names_a_broken_run_config(run, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes((run / "checkpoint.pt").read_bytes())
    (folder / "config.json").write_text('{"runs": [')
    with pytest.raises(CheckpointError) as caught:
        export_weights(folder / "checkpoint.pt", tmp_path / "small.pt")
    assert f"{folder / 'config.json'} is not a readable record" in str(caught.value)
    assert not (tmp_path / "small.pt").exists()
