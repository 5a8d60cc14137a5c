"""GAN losses against hand formulas, and WGAN-GP's penalty against our own."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse.losses import (
    LOSSES,
    auxiliary_loss,
    clip_weights,
    d_loss,
    g_loss,
    gradient_penalty,
)
from gancourse.models import Discriminator, DiscriminatorConfig

SEED = 7
f64 = torch.float64


def seeded() -> torch.Generator:
    return torch.Generator().manual_seed(SEED)


def critic_28px(conditioning: str = "none") -> Discriminator:
    """A small WGAN-GP critic in float64, scaled so its gradient norms are O(1)."""
    torch.manual_seed(0)
    config = DiscriminatorConfig(
        image_size=28,
        width=8,
        batchnorm=False,
        conditioning=conditioning,
        num_classes=0 if conditioning == "none" else 5,
    )
    critic = Discriminator(config).double()
    with torch.no_grad():
        for m in critic.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.mul_(4)
    return critic


def reference_penalty(critic, real, fake, eps, labels=None, create_graph=False):
    """WGAN-GP written out one sample at a time: mean of (||grad f(x_hat_i)|| - 1)^2."""
    terms = []
    for i in range(real.shape[0]):
        x_hat = (eps[i] * real[i] + (1 - eps[i]) * fake[i]).unsqueeze(0)
        x_hat.requires_grad_(True)
        score = critic(x_hat) if labels is None else critic(x_hat, labels[i : i + 1])
        if isinstance(score, tuple):
            score = score[0]
        (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=create_graph)
        terms.append((torch.sqrt((grad**2).sum()) - 1) ** 2)
    return torch.stack(terms).mean()


class LinearCritic(nn.Module):
    """f(x) = sum(w * x) per sample; remembers every input it is called on."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)
        self.inputs: list[torch.Tensor] = []

    def forward(self, x):
        self.inputs.append(x.detach().clone())
        return (x * self.w).flatten(1).sum(dim=1)  # (N,)


# ---------------------------------------------------------------- gradient penalty


def images(n=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    real = torch.rand(n, 1, 28, 28, generator=gen, dtype=f64) * 2 - 1
    fake = torch.rand(n, 1, 28, 28, generator=gen, dtype=f64) * 2 - 1
    return real, fake


@pytest.mark.parametrize("conditioning", ["none", "cgan", "acgan"])
def test_penalty_matches_a_per_sample_reference(conditioning):
    critic = critic_28px(conditioning)
    real, fake = images()
    labels = None if conditioning == "none" else torch.tensor([0, 1, 2, 3, 4, 0])
    penalty = gradient_penalty(critic, real, fake, labels=labels, generator=seeded())
    eps = torch.rand(real.shape[0], generator=seeded()).to(f64)
    expected = reference_penalty(critic, real, fake, eps, labels)
    assert penalty.dtype == f64
    assert penalty.item() == pytest.approx(expected.item(), abs=1e-10)
    assert 0.05 < expected.item() < 50  # the critic is far from a trivial penalty


def test_one_interpolation_weight_per_sample():
    real, fake = images(n=5)
    fake = fake - 3  # real - fake > 0 everywhere, so the ratio below is defined
    critic = LinearCritic(torch.ones(1, 28, 28, dtype=f64))
    gradient_penalty(critic, real, fake, generator=seeded())
    (x_hat,) = critic.inputs
    ratio = (x_hat - fake) / (real - fake)  # (5, 1, 28, 28): eps at every pixel
    per_sample = ratio.flatten(1)
    assert torch.all(per_sample.amax(1) - per_sample.amin(1) < 1e-9)
    eps = per_sample[:, 0]
    assert torch.all((eps >= 0) & (eps <= 1))
    assert torch.all(torch.pdist(eps[:, None]) > 1e-6)  # a new weight per sample
    assert torch.allclose(eps, torch.rand(5, generator=seeded()).to(f64))


def test_norm_is_over_all_non_batch_dims():
    w = torch.full((3, 4, 4), 0.5, dtype=f64)  # ||w|| = sqrt(48 / 4) = 2 sqrt(3)
    real = torch.randn(5, 3, 4, 4, dtype=f64)
    fake = torch.randn(5, 3, 4, 4, dtype=f64)
    penalty = gradient_penalty(LinearCritic(w), real, fake, generator=seeded())
    # a norm per channel (2) or per pixel (sqrt(3) / 2) would give 1 or 0.018
    assert penalty.item() == pytest.approx((2 * math.sqrt(3) - 1) ** 2, abs=1e-12)
    assert penalty.item() == pytest.approx(13 - 4 * math.sqrt(3), abs=1e-12)


def test_penalty_on_points_in_the_plane():
    w = torch.tensor([3.0, 4.0], dtype=f64)  # ||w|| = 5
    real, fake = torch.randn(8, 2, dtype=f64), torch.randn(8, 2, dtype=f64)
    assert gradient_penalty(LinearCritic(w), real, fake).item() == pytest.approx(16)


def test_penalty_trains_the_critic_and_not_the_generator():
    critic = critic_28px()
    real, fake = images()
    maker = nn.Linear(1, 1).double()  # stands in for G: fake depends on its weight
    fake = fake * maker.weight.squeeze()
    penalty = gradient_penalty(critic, real, fake, generator=seeded())
    penalty.backward()
    assert maker.weight.grad is None
    eps = torch.rand(real.shape[0], generator=seeded()).to(f64)
    expected = reference_penalty(critic, real, fake.detach(), eps, create_graph=True)
    weights = [m.weight for m in critic.modules() if isinstance(m, nn.Conv2d)]
    expected_grads = torch.autograd.grad(expected, weights)
    for w, grad in zip(weights, expected_grads, strict=True):
        assert w.grad is not None and w.grad.abs().sum() > 0
        torch.testing.assert_close(w.grad, grad, rtol=1e-8, atol=1e-12)


def test_penalty_trains_a_small_mlp_critic():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1), nn.Flatten(0))
    penalty = gradient_penalty(critic, torch.randn(8, 4), torch.randn(8, 4))
    penalty.backward()
    for p in (critic[0].weight, critic[0].bias, critic[2].weight):
        assert p.grad is not None and p.grad.abs().sum() > 0
    assert critic[2].bias.grad is None or torch.all(critic[2].bias.grad == 0)


def test_penalty_needs_matching_shapes():
    real, fake = images(n=3)[0], images(n=4)[1]
    with pytest.raises(ValueError, match="differ in shape"):
        gradient_penalty(critic_28px(), real, fake)


# ---------------------------------------------------------------- GAN losses

REAL = torch.tensor([-1.5, 0.3, 2.0, 0.9], dtype=f64)
FAKE = torch.tensor([-2.0, -0.4, 1.2, -0.9], dtype=f64)


def d_by_hand(name, r, f):
    sig = torch.sigmoid
    if name in ("minimax", "non-saturating"):
        return -torch.log(sig(r)).mean() - torch.log(1 - sig(f)).mean()
    if name == "wasserstein":
        return f.mean() - r.mean()
    if name == "relativistic":  # -log sigmoid of each pair's difference
        return -torch.log(sig(r - f)).mean()
    return torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean()


def g_by_hand(name, f, r=REAL):
    if name == "relativistic":
        return -torch.log(torch.sigmoid(f - r)).mean()
    if name == "minimax":
        return torch.log(1 - torch.sigmoid(f)).mean()
    if name == "non-saturating":
        return -torch.log(torch.sigmoid(f)).mean()
    return -f.mean()


@pytest.mark.parametrize("name", LOSSES)
def test_d_loss_matches_the_formula(name):
    expected = d_by_hand(name, REAL, FAKE).item()
    assert d_loss(name, REAL, FAKE).item() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", LOSSES)
def test_g_loss_matches_the_formula(name):
    assert g_loss(name, FAKE, REAL).item() == pytest.approx(
        g_by_hand(name, FAKE).item(), abs=1e-12
    )


def test_the_five_losses_are_different():
    d_values = {round(d_loss(n, REAL, FAKE).item(), 9) for n in LOSSES}
    g_values = {round(g_loss(n, FAKE, REAL).item(), 9) for n in LOSSES}
    assert len(d_values) == 4  # minimax and non-saturating share D's loss
    assert len(g_values) == 4  # wasserstein and hinge share G's loss


@pytest.mark.parametrize("name", ["minimax", "non-saturating"])
def test_bce_losses_stay_finite_at_extreme_logits(name):
    big = torch.tensor([1000.0, -1000.0], requires_grad=True)
    other = torch.tensor([-1000.0, 1000.0], requires_grad=True)
    d = d_loss(name, big, other)  # one confident right and one wrong on each side
    assert d.item() == pytest.approx(1000.0)  # (0 + 1000) / 2 twice
    g = g_loss(name, other)
    assert g.item() == pytest.approx(-500.0 if name == "minimax" else 500.0)
    (d + g).backward()
    assert torch.isfinite(big.grad).all() and torch.isfinite(other.grad).all()


def test_minimax_generator_gradient_vanishes_where_non_saturating_does_not():
    grads = {}
    for name in ("minimax", "non-saturating"):
        logits = torch.full((4,), -10.0, dtype=f64, requires_grad=True)  # D: all fake
        g_loss(name, logits).backward()
        grads[name] = logits.grad
    sig = torch.sigmoid(torch.tensor(10.0, dtype=f64)).item()
    # both push the logits up (negative gradient), at very different rates
    torch.testing.assert_close(
        grads["minimax"], torch.full_like(logits, -(1 - sig) / 4)
    )
    torch.testing.assert_close(
        grads["non-saturating"], torch.full_like(logits, -sig / 4)
    )
    assert grads["non-saturating"].abs().min() > 1e4 * grads["minimax"].abs().max()


def test_minimax_and_non_saturating_agree_where_d_is_unsure():
    grads = []
    for name in ("minimax", "non-saturating"):
        logits = torch.zeros(4, dtype=f64, requires_grad=True)
        g_loss(name, logits).backward()
        grads.append(logits.grad)
    torch.testing.assert_close(grads[0], grads[1])
    torch.testing.assert_close(grads[0], torch.full((4,), -0.125, dtype=f64))


@pytest.mark.parametrize(
    "call",
    [lambda: d_loss("lsgan", REAL, FAKE), lambda: g_loss("lsgan", FAKE)],
    ids=["d_loss", "g_loss"],
)
def test_unknown_loss_lists_the_choices(call):
    with pytest.raises(ValueError, match="lsgan") as error:
        call()
    for name in LOSSES:
        assert repr(name) in str(error.value)


def test_auxiliary_loss_is_cross_entropy():
    logits = torch.randn(6, 4, generator=seeded(), dtype=f64)
    labels = torch.tensor([0, 3, 1, 1, 2, 0])
    by_hand = -torch.log_softmax(logits, dim=1)[torch.arange(6), labels].mean()
    assert auxiliary_loss(logits, labels).item() == pytest.approx(by_hand.item())
    torch.testing.assert_close(
        auxiliary_loss(logits, labels), F.cross_entropy(logits, labels)
    )


def test_clip_weights_clamps_every_parameter_and_nothing_else():
    critic = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        critic[0].weight.copy_(
            torch.tensor([[-2.0, -0.005, 0.003], [0.01, 0.5, -0.01]])
        )
        critic[0].bias.copy_(torch.tensor([0.02, -0.007]))
    clip_weights(critic, 0.01)
    torch.testing.assert_close(
        critic[0].weight, torch.tensor([[-0.01, -0.005, 0.003], [0.01, 0.01, -0.01]])
    )
    torch.testing.assert_close(critic[0].bias, torch.tensor([0.01, -0.007]))
    torch.testing.assert_close(critic[1].weight, torch.full((2,), 0.01))  # was 1
    assert torch.equal(critic[1].running_var, torch.ones(2))  # a buffer: untouched
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    assert all(p.requires_grad for p in critic.parameters())
