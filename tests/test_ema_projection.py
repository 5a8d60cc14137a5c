"""The moving average of G (TrainConfig.ema) and the projection discriminator,
each checked against an independent computation of what it should be."""

import pytest
import torch

from gancourse.errors import GancourseError
from gancourse.models import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
)
from gancourse.pretrained import export_weights
from gancourse.training import GANTrainer, load_checkpoint, models_from_state
from gancourse.training.callbacks import Callback
from tests.test_training import make

pytestmark = pytest.mark.usefixtures("one_thread")


class GWeights(Callback):
    """G's parameters after every step, as the trainer leaves them."""

    def __init__(self):
        self.seen = []

    def after_step(self, trainer):
        self.seen.append([p.detach().clone() for p in trainer.G.parameters()])


def test_the_average_is_the_warmed_up_moving_average_of_g(mnist):
    record = GWeights()
    trainer = make(mnist, ema=0.9, callbacks=[record])
    start = [p.detach().clone() for p in trainer.G.parameters()]
    trainer.fit(steps=20)
    expected = start  # by hand: a <- b_k a + (1 - b_k) theta_k
    for k, theta in enumerate(record.seen):
        beta = min(0.9, (1 + k) / (10 + k))
        expected = [
            beta * a + (1 - beta) * t for a, t in zip(expected, theta, strict=True)
        ]
    got = list(trainer.g_average.model.parameters())
    for a, b in zip(got, expected, strict=True):
        assert torch.allclose(a, b, atol=1e-6)
    last = record.seen[-1]
    assert any(
        not torch.allclose(a, t) for a, t in zip(got, last, strict=True)
    )  # not G itself


def test_samples_come_from_the_average_and_training_from_g(mnist):
    trainer = make(mnist, ema=0.99).fit(steps=30)
    z = torch.randn(6, trainer.G.config.z_dim)
    with torch.no_grad():
        from_average = trainer.g_average.model.eval()(z)
        from_g = trainer.G.eval()(z)
    trainer.G.train()
    assert torch.allclose(trainer.sample_from(z), from_average, atol=1e-6)
    gap = (trainer.sample_from(z) - from_g).norm() / from_g.norm()
    assert gap > 0.01  # the average lags G: its images differ
    plain = make(mnist).fit(steps=10)  # without ema, samples are G's
    assert plain.g_average is None and plain.sampler is plain.G


def test_an_averaged_run_resumes_exactly_and_exports_the_average(mnist, tmp_path):
    whole = make(mnist, ema=0.95).fit(steps=6)
    half = make(mnist, ema=0.95).fit(steps=3)
    path = half.save(tmp_path / "half.pt")
    resumed = GANTrainer.resume(path, mnist, progress=False).fit(steps=3)
    assert resumed.g_average.updates == whole.g_average.updates == 6
    for a, b in zip(
        whole.g_average.model.state_dict().values(),
        resumed.g_average.model.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b)
    end = whole.save(tmp_path / "whole.pt")
    G, _ = models_from_state(load_checkpoint(end))  # for sample and evaluate
    for a, b in zip(G.parameters(), whole.g_average.model.parameters(), strict=True):
        assert torch.equal(a, b)
    small = load_checkpoint(export_weights(end, tmp_path / "small.pt"))
    for name, value in whole.g_average.model.state_dict().items():
        assert torch.equal(small["generator"][name], value.half())


def test_undoing_a_step_takes_back_the_average_too(mnist):
    trainer = make(mnist, ema=0.9).fit(steps=3)
    before = [p.clone() for p in trainer.g_average.model.parameters()]
    trainer._undo.take(trainer)
    trainer._in_step = True
    trainer.g_update()  # half a step: G and its average moved
    trainer.undo_step()
    assert trainer.g_average.updates == 3
    for a, b in zip(trainer.g_average.model.parameters(), before, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("beta", [1.0, -0.5, True, "0.999"])
def test_a_bad_average_beta_is_one_clear_error(mnist, beta):
    with pytest.raises(GancourseError, match="beta must be"):
        make(mnist, ema=beta)


def projection_d(sn: bool = False) -> Discriminator:
    config = DiscriminatorConfig(
        width=8, conditioning="projection", num_classes=10, spectral_norm=sn
    )
    return Discriminator(config)


@pytest.mark.parametrize("sn", [False, True])
def test_projection_adds_the_label_vector_dot_the_pooled_features(sn):
    torch.manual_seed(0)
    D = projection_d(sn).eval()
    with torch.no_grad():
        D.projection.weight.normal_()  # big enough that a wrong label shows
    x, labels = torch.randn(5, 1, 28, 28), torch.tensor([0, 3, 3, 7, 9])
    features = D.body(x)  # (5, 32, 7, 7)
    unconditional = D.real_fake(features)  # (5,)
    vectors = D.projection.weight[labels]  # (5, 32)
    by_hand = unconditional + torch.einsum("nc,nchw->n", vectors, features)
    assert torch.allclose(D(x, labels), by_hand, atol=1e-4)
    other = D(x, (labels + 1) % 10)
    assert not torch.allclose(other, by_hand, atol=1e-3)  # the label matters


def test_projection_needs_labels_and_only_d_takes_it():
    with pytest.raises(GancourseError, match="call it as D\\(x, labels\\)"):
        projection_d()(torch.randn(2, 1, 28, 28))
    with pytest.raises(GancourseError, match="conditioning 'projection'"):
        Generator(GeneratorConfig(conditioning="projection", num_classes=10))


def projection_cgan(mnist, kind, **train) -> GANTrainer:
    """A tiny trainer of `kind` whose D takes labels by projection."""
    d = {"width": 8, "conditioning": "projection", "num_classes": 10}
    return GANTrainer.from_preset(
        kind, mnist, g={"width": 8}, d=d, batch_size=16, progress=False, **train
    )


def test_a_cgan_trains_with_a_projection_d(mnist):
    trainer = projection_cgan(mnist, "cgan", loss="hinge")
    assert trainer._d_takes_labels
    before = trainer.D.projection.weight.clone()
    trainer.fit(steps=3)
    assert not torch.equal(before, trainer.D.projection.weight)  # it learns
    assert set(trainer.history) >= {"loss_d", "loss_g"}
    with pytest.raises(GancourseError, match="same classes"):
        projection_cgan(mnist, "dcgan")
