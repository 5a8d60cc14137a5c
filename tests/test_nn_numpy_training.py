"""Losses, optimisers and initialisers of gancourse.nn_numpy against torch."""

import math

import numpy as np
import pytest
import torch
from torch.nn.functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)

from gancourse.nn_numpy import (
    SGD,
    Adam,
    Dense,
    LeakyReLU,
    Sequential,
    Tanh,
    bce,
    bce_with_logits,
    init,
    mse,
    softmax_cross_entropy,
)

TOL = 1e-5


def torch_loss_and_grad(loss_fn, prediction, target):
    """The loss torch computes and its gradient with respect to the prediction."""
    prediction_torch = torch.tensor(prediction, requires_grad=True)
    loss = loss_fn(prediction_torch, torch.tensor(target))
    loss.backward()
    return loss.item(), prediction_torch.grad.numpy()


@pytest.mark.parametrize(
    ("ours", "theirs", "make_input"),
    [
        (mse, mse_loss, lambda rng: rng.normal(size=(6, 3))),
        (bce, binary_cross_entropy, lambda rng: rng.uniform(0.02, 0.98, (6, 3))),
        (
            bce_with_logits,
            binary_cross_entropy_with_logits,
            lambda rng: 4 * rng.normal(size=(6, 3)),
        ),
    ],
    ids=["mse", "bce", "bce_with_logits"],
)
def test_losses_match_torch(ours, theirs, make_input):
    rng = np.random.default_rng(0)
    prediction = make_input(rng)
    target = rng.uniform(0, 1, size=prediction.shape)
    loss, grad = ours(prediction, target)
    assert isinstance(loss, float) and grad.shape == prediction.shape
    torch_loss, torch_grad = torch_loss_and_grad(theirs, prediction, target)
    assert loss == pytest.approx(torch_loss, rel=TOL)
    np.testing.assert_allclose(grad, torch_grad, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("loss_fn", [mse, bce, bce_with_logits])
def test_loss_gradients_match_finite_differences(loss_fn):
    rng = np.random.default_rng(1)
    prediction = rng.uniform(0.1, 0.9, size=(4, 2))
    target = rng.integers(0, 2, size=(4, 2)).astype(float)
    _, grad = loss_fn(prediction, target)
    h = 1e-6
    for index in [(0, 0), (2, 1), (3, 0)]:
        up, down = prediction.copy(), prediction.copy()
        up[index] += h
        down[index] -= h
        numeric = (loss_fn(up, target)[0] - loss_fn(down, target)[0]) / (2 * h)
        assert grad[index] == pytest.approx(numeric, rel=1e-5)


def test_bce_with_logits_is_stable_at_huge_logits():
    logits = np.array([[-1000.0], [1000.0], [-1000.0], [1000.0], [0.0]])
    target = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = bce_with_logits(logits, target)
    torch_loss, torch_grad = torch_loss_and_grad(
        binary_cross_entropy_with_logits, logits, target
    )
    assert math.isfinite(loss) and loss == pytest.approx(torch_loss, rel=1e-12)
    assert loss == pytest.approx((1000 + 1000 + math.log(2)) / 5)
    np.testing.assert_allclose(grad, torch_grad, atol=1e-12)


def test_softmax_cross_entropy_matches_torch_and_finite_differences():
    rng = np.random.default_rng(2)
    logits = 3 * rng.normal(size=(6, 5))  # (N, K)
    labels = np.array([0, 4, 2, 2, 1, 3])  # (N,)
    loss, grad = softmax_cross_entropy(logits, labels)
    assert isinstance(loss, float) and grad.shape == logits.shape
    logits_torch = torch.tensor(logits, requires_grad=True)
    want = cross_entropy(logits_torch, torch.tensor(labels))
    want.backward()
    assert loss == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(grad, logits_torch.grad.numpy(), atol=1e-12)
    h = 1e-6
    for index in [(0, 0), (1, 4), (3, 1)]:
        up, down = logits.copy(), logits.copy()
        up[index] += h
        down[index] -= h
        numeric = (
            softmax_cross_entropy(up, labels)[0]
            - softmax_cross_entropy(down, labels)[0]
        ) / (2 * h)
        assert grad[index] == pytest.approx(numeric, rel=1e-5)


def test_softmax_cross_entropy_is_stable_at_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = softmax_cross_entropy(logits, np.array([0, 2]))
    assert loss == pytest.approx((0.0 + 2000.0) / 2)
    np.testing.assert_allclose(grad, [[0, 0, 0], [0.5, 0, -0.5]], atol=1e-12)


def test_bce_clips_probabilities_and_broadcasts_a_scalar_target():
    loss, grad = bce(np.array([0.0, 1.0]), 1.0)
    assert math.isfinite(loss) and np.all(np.isfinite(grad))
    assert loss == pytest.approx(-math.log(1e-12) / 2)
    same, _ = bce_with_logits(np.array([0.3, -2.0]), 1.0)
    assert same == pytest.approx(bce_with_logits(np.array([0.3, -2.0]), np.ones(2))[0])


def run_both(make_ours, make_theirs, steps=6, lr_change=None):
    """Apply the same gradients with our optimiser and torch's; return both params."""
    rng = np.random.default_rng(2)
    start = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    params = [array.copy() for array in start]
    grads = [np.zeros_like(array) for array in start]
    torch_params = [torch.tensor(array, requires_grad=True) for array in start]
    ours = make_ours(list(zip(params, grads, strict=True)))
    theirs = make_theirs(torch_params)
    for step in range(steps):
        if step == lr_change:
            ours.lr *= 0.1
            for group in theirs.param_groups:
                group["lr"] *= 0.1
        for grad, torch_param in zip(grads, torch_params, strict=True):
            grad[...] = rng.normal(size=grad.shape)
            torch_param.grad = torch.tensor(grad.copy())
        ours.step()
        theirs.step()
    return params, [param.detach().numpy() for param in torch_params]


@pytest.mark.parametrize(
    "options",
    [{}, {"momentum": 0.9}, {"momentum": 0.5, "nesterov": True}],
    ids=["plain", "momentum", "nesterov"],
)
def test_sgd_matches_torch(options):
    ours, theirs = run_both(
        lambda pairs: SGD(pairs, lr=0.1, **options),
        lambda params: torch.optim.SGD(params, lr=0.1, **options),
        lr_change=3,
    )
    for mine, torch_param in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, torch_param, atol=1e-10)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.999)])
def test_adam_matches_torch(betas):
    ours, theirs = run_both(
        lambda pairs: Adam(pairs, lr=0.01, betas=betas),
        lambda params: torch.optim.Adam(params, lr=0.01, betas=betas),
        lr_change=4,
    )
    for mine, torch_param in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, torch_param, atol=1e-10)


def test_sgd_refuses_nesterov_without_momentum():
    with pytest.raises(ValueError, match="momentum"):
        SGD([], lr=0.1, nesterov=True)


def train_steps(net, optimiser, x, target, steps):
    """Run a few full-batch steps of MSE regression and return the losses."""
    losses = []
    for _ in range(steps):
        optimiser.zero_grad()
        loss, grad = mse(net.forward(x), target)
        net.backward(grad)
        optimiser.step()
        losses.append(loss)
    return losses


@pytest.mark.parametrize(
    "make_optimiser",
    [
        lambda pairs: SGD(pairs, lr=0.05),
        lambda pairs: SGD(pairs, lr=0.05, momentum=0.9, nesterov=True),
        lambda pairs: Adam(pairs, lr=0.01),
    ],
    ids=["sgd", "nesterov", "adam"],
)
def test_optimisers_drive_the_loss_down(make_optimiser):
    rng = np.random.default_rng(3)
    net = Sequential(Dense(3, 16, rng=4), LeakyReLU(), Dense(16, 2, rng=5), Tanh())
    x = rng.normal(size=(32, 3))
    target = np.tile([0.5, -0.3], (32, 1))
    losses = train_steps(net, make_optimiser(net.parameters()), x, target, 60)
    assert losses[-1] < 0.1 * losses[0]


def test_optimiser_zero_grad_clears_only_its_parameters():
    a, b = Dense(2, 2, rng=0), Dense(2, 2, rng=1)
    for layer in (a, b):
        layer.forward(np.ones((1, 2)))
        layer.backward(np.ones((1, 2)))
    SGD(a.parameters(), lr=0.1).zero_grad()
    assert not a.grads["W"].any() and b.grads["W"].any()


def test_generator_step_through_a_frozen_discriminator():
    rng = np.random.default_rng(6)
    generator = Sequential(Dense(2, 8, rng=7), Tanh(), Dense(8, 2, rng=8))
    discriminator = Sequential(Dense(2, 8, rng=9), LeakyReLU(), Dense(8, 1, rng=10))
    generator_optimiser = Adam(generator.parameters(), lr=0.01)
    frozen = [param.copy() for param, _ in discriminator.parameters()]
    z = rng.normal(size=(16, 2))
    losses = []
    for _ in range(20):
        generator_optimiser.zero_grad()
        logits = discriminator.forward(generator.forward(z))
        loss, grad = bce_with_logits(logits, np.ones_like(logits))
        generator.backward(discriminator.backward(grad))
        generator_optimiser.step()
        losses.append(loss)
    for (param, _), saved in zip(discriminator.parameters(), frozen, strict=True):
        np.testing.assert_array_equal(param, saved)
    assert losses[-1] < losses[0]


def test_fans_follow_torch_for_linear_and_conv_shapes():
    for shape in [(7, 5), (16, 8, 3, 3), (8, 16, 4, 4)]:
        weight = torch.empty(shape)
        fans = torch.nn.init._calculate_fan_in_and_fan_out(weight)
        assert init.fans(shape) == fans


@pytest.mark.parametrize(
    ("initialiser", "shape", "expected_std"),
    [
        (init.he, (256, 128, 3, 3), math.sqrt(2 / (128 * 9))),
        (init.xavier, (400, 600), math.sqrt(2 / (400 + 600))),
        (init.xavier, (64, 32, 3, 3), math.sqrt(2 / (32 * 9 + 64 * 9))),
        (lambda shape, rng: init.normal(shape, rng=rng), (500, 500), 0.02),
    ],
    ids=["he-conv", "xavier-linear", "xavier-conv", "normal"],
)
def test_initialiser_statistics(initialiser, shape, expected_std):
    weights = initialiser(shape, rng=0)
    assert weights.shape == shape and weights.dtype == np.float64
    assert abs(weights.mean()) < 0.02 * expected_std * 10
    assert weights.std() == pytest.approx(expected_std, rel=0.03)


def test_xavier_is_uniform_within_its_bound():
    weights = init.xavier((300, 200), rng=1)
    bound = math.sqrt(6 / 500)
    assert np.abs(weights).max() <= bound
    assert np.abs(weights).max() > 0.99 * bound


def test_initialisers_are_reproducible_from_a_seed():
    np.testing.assert_array_equal(init.he((4, 3), rng=3), init.he((4, 3), rng=3))
    generator = np.random.default_rng(3)
    assert not np.array_equal(
        init.he((4, 3), rng=generator), init.he((4, 3), rng=generator)
    )
