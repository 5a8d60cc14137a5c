"""The relativistic pairing loss, R1/R2 penalties and G's weight average, each
against an independent computation, and the usual wrong versions kept apart."""

import math

import pytest
import torch
from torch import nn

from gancourse.errors import UsageError
from gancourse.losses import (
    relativistic_d_loss,
    relativistic_g_loss,
    zero_centred_penalty,
)
from gancourse.training.ema import WeightAverage

REAL = torch.tensor([2.0, -1.0, 0.5, 3.0])
FAKE = torch.tensor([1.0, 0.5, -2.0, 3.5])


def pairing_by_hand(first, second):
    """mean_i -log sigmoid(first_i - second_i), one pair at a time."""
    terms = [
        -math.log(1 / (1 + math.exp(-(a - b))))
        for a, b in zip(first, second, strict=True)
    ]
    return sum(terms) / len(terms)


def test_the_pairing_losses_match_a_by_hand_computation():
    assert relativistic_d_loss(REAL, FAKE).item() == pytest.approx(
        pairing_by_hand(REAL.tolist(), FAKE.tolist()), rel=1e-6
    )
    assert relativistic_g_loss(REAL, FAKE).item() == pytest.approx(
        pairing_by_hand(FAKE.tolist(), REAL.tolist()), rel=1e-6
    )


def test_the_usual_wrong_pairing_losses_give_other_values():
    right = relativistic_d_loss(REAL, FAKE).item()
    wrong = {  # what a tired engineer writes instead
        "means, not pairs": nn.functional.softplus(-(REAL.mean() - FAKE.mean())),
        "sign swapped": nn.functional.softplus(REAL - FAKE).mean(),
        "plain BCE": nn.functional.softplus(-REAL).mean()
        + nn.functional.softplus(FAKE).mean(),
    }
    for name, value in wrong.items():
        assert abs(value.item() - right) > 0.05, name


def test_pairs_must_be_of_equal_size():
    with pytest.raises(UsageError, match="pairs each real score"):
        relativistic_d_loss(REAL, FAKE[:3])


class Linear(nn.Module):
    """D(x) = w . x + b: its input gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.tensor(0.3))

    def forward(self, x):
        return x.flatten(1) @ self.w + self.b


class HalfSquare(nn.Module):
    """D(x) = s * ||x||^2 / 2: its input gradient is s * x."""

    def __init__(self):
        super().__init__()
        self.s = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        return self.s * x.flatten(1).pow(2).sum(1) / 2


def test_the_penalty_is_the_mean_squared_input_gradient():
    x = torch.randn(
        6, 2, 3, 5, generator=torch.Generator().manual_seed(0)
    )  # non-square
    w = torch.randn(30, generator=torch.Generator().manual_seed(1))
    assert zero_centred_penalty(Linear(w), x).item() == pytest.approx(
        w.pow(2).sum().item(), rel=1e-6
    )
    expected = x.flatten(1).pow(2).sum(1).mean().item()  # E||x||^2
    assert zero_centred_penalty(HalfSquare(), x).item() == pytest.approx(expected)


def test_the_usual_wrong_penalties_give_other_values():
    x = torch.randn(6, 2, 3, 5, generator=torch.Generator().manual_seed(0))
    right = zero_centred_penalty(HalfSquare(), x).item()
    norms = x.flatten(1).norm(dim=1)  # ||grad|| per sample for HalfSquare
    wrong = {
        "norm, not squared": norms.mean(),
        "centred at 1 (WGAN-GP)": ((norms - 1) ** 2).mean(),
        "mean over pixels": x.flatten(1).pow(2).mean(1).mean(),
    }
    for name, value in wrong.items():
        assert abs(value.item() - right) > 0.5, name


def test_the_penalty_trains_d_and_never_reaches_g():
    critic = HalfSquare()
    G = nn.Linear(3, 30)
    fake = G(torch.randn(4, 3)).view(4, 2, 3, 5)  # still carries G's graph
    zero_centred_penalty(critic, fake).backward()
    assert critic.s.grad is not None and critic.s.grad.item() != 0
    assert all(p.grad is None for p in G.parameters())


def test_the_weight_average_follows_its_formula():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    average = WeightAverage(model, beta=0.9)
    start = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)  # the model jumps, then stays put
    model.train()(torch.randn(8, 3))  # BatchNorm statistics move
    for _ in range(3):
        average.update(model)
    # the k-th update keeps min(beta, (1 + k) / (10 + k)) of the average
    kept = 1 / 10 * 2 / 11 * 3 / 12
    for a, s, p in zip(
        average.model.parameters(), start, model.parameters(), strict=True
    ):
        assert torch.allclose(a, p + kept * (s - p), atol=1e-6)
    for a, b in zip(average.model.buffers(), model.buffers(), strict=True):
        assert torch.equal(a, b)  # statistics copied, not averaged
    assert not average.model.training
    assert not any(p.requires_grad for p in average.model.parameters())


def test_the_average_reaches_beta_and_stays_there():
    average = WeightAverage(nn.Linear(2, 2), beta=0.9)
    betas = []
    for _ in range(200):
        betas.append(average.current_beta())
        average.update(nn.Linear(2, 2))
    assert betas[0] == pytest.approx(0.1)
    assert betas == sorted(betas)  # a longer memory as training goes on
    assert betas[-1] == 0.9 and betas.count(0.9) > 100


def test_the_average_round_trips_through_its_state():
    model = nn.Linear(3, 2)
    average = WeightAverage(model, beta=0.99)
    for _ in range(5):
        with torch.no_grad():
            model.weight.add_(0.1)
        average.update(model)
    copy = WeightAverage(nn.Linear(3, 2), beta=0.99)
    copy.load_state_dict(average.state_dict())
    assert copy.updates == 5 and copy.current_beta() == average.current_beta()
    assert torch.equal(copy.model.weight, average.model.weight)


@pytest.mark.parametrize("beta", [1.0, -0.1, "0.99", None])
def test_beta_must_lie_in_zero_to_one(beta):
    with pytest.raises(UsageError, match="beta must be"):
        WeightAverage(nn.Linear(2, 2), beta=beta)
