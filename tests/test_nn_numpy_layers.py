"""The dense layers of gancourse.nn_numpy against torch and finite differences."""

import numpy as np
import pytest
import torch

from gancourse.nn_numpy import (
    Dense,
    Flatten,
    Layer,
    LeakyReLU,
    ReLU,
    Reshape,
    Sequential,
    Sigmoid,
    Tanh,
)

TOL = 1e-5


def check_against_torch(layer, torch_layer, x, seed=0):
    """Compare forward, input gradient and weight gradients with torch autograd.

    `torch_layer` must hold the same weights; `layer.params` names are matched to
    torch parameters by the order of `parameters()`.
    """
    upstream_rng = np.random.default_rng(seed)
    y = layer.forward(x)
    x_torch = torch.tensor(x, requires_grad=True)
    y_torch = torch_layer(x_torch)
    np.testing.assert_allclose(y, y_torch.detach().numpy(), atol=TOL, rtol=TOL)
    upstream = upstream_rng.normal(size=y.shape)
    y_torch.backward(torch.tensor(upstream))
    layer.zero_grad()
    grad_x = layer.backward(upstream)
    assert grad_x.shape == x.shape
    np.testing.assert_allclose(grad_x, x_torch.grad.numpy(), atol=TOL, rtol=TOL)
    torch_params = list(torch_layer.parameters())
    ours = layer.parameters()
    assert len(ours) == len(torch_params)
    for (_, grad), torch_param in zip(ours, torch_params, strict=True):
        np.testing.assert_allclose(grad, torch_param.grad.numpy(), atol=TOL, rtol=TOL)


def finite_difference_check(layer, x, entries=5, h=1e-6, seed=0):
    """Compare backward with central differences of sum(upstream * y), a few entries."""
    rng = np.random.default_rng(seed)
    upstream = rng.normal(size=layer.forward(x).shape)

    def objective():
        return float(np.sum(upstream * layer.forward(x)))

    layer.forward(x)
    layer.zero_grad()
    grad_x = layer.backward(upstream)
    targets = [("x", x, grad_x)] + [
        (name, layer.params[name], layer.grads[name]) for name in layer.params
    ]
    for name, array, grad in targets:
        for flat in rng.choice(
            array.size, size=min(entries, array.size), replace=False
        ):
            index = np.unravel_index(flat, array.shape)
            saved = array[index]
            array[index] = saved + h
            up = objective()
            array[index] = saved - h
            down = objective()
            array[index] = saved
            numeric = (up - down) / (2 * h)
            assert grad[index] == pytest.approx(numeric, rel=1e-5, abs=1e-6), name


def dense_like_torch(n_in, n_out, seed=0):
    """A Dense layer and a torch.nn.Linear with the same float64 weights."""
    dense = Dense(n_in, n_out, rng=seed)
    dense.params["b"][:] = np.random.default_rng(seed + 1).normal(size=n_out)
    linear = torch.nn.Linear(n_in, n_out).double()
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(dense.params["W"]))
        linear.bias.copy_(torch.tensor(dense.params["b"]))
    return dense, linear


@pytest.mark.parametrize("batch", [1, 7])
def test_dense_matches_torch_linear(batch):
    dense, linear = dense_like_torch(5, 3)
    assert dense.params["W"].shape == (3, 5) and dense.params["b"].shape == (3,)
    x = np.random.default_rng(2).normal(size=(batch, 5))
    check_against_torch(dense, linear, x)


def test_dense_matches_finite_differences():
    dense, _ = dense_like_torch(4, 3)
    finite_difference_check(dense, np.random.default_rng(3).normal(size=(6, 4)))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Sigmoid(), torch.nn.Sigmoid()),
        (Tanh(), torch.nn.Tanh()),
        (ReLU(), torch.nn.ReLU()),
        (LeakyReLU(), torch.nn.LeakyReLU(0.2)),
        (LeakyReLU(alpha=0.05), torch.nn.LeakyReLU(0.05)),
    ],
    ids=["sigmoid", "tanh", "relu", "leaky-0.2", "leaky-0.05"],
)
def test_activations_match_torch_and_finite_differences(ours, theirs):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 3, 4, 2))
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences away from the kink at 0
    check_against_torch(ours, theirs, x)
    finite_difference_check(ours, x)
    assert ours.parameters() == []


def test_sigmoid_is_stable_for_huge_inputs():
    with np.errstate(all="raise"):
        y = Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0])


def test_reshape_and_flatten_round_trip():
    x = np.arange(2 * 12, dtype=float).reshape(2, 12)
    reshape, flatten = Reshape((3, 2, 2)), Flatten()
    images = reshape.forward(x)
    assert images.shape == (2, 3, 2, 2)
    torch_images = torch.tensor(x).reshape(2, 3, 2, 2).numpy()
    np.testing.assert_array_equal(images, torch_images)
    np.testing.assert_array_equal(flatten.forward(images), x)
    grad = np.random.default_rng(5).normal(size=(2, 12))
    np.testing.assert_array_equal(reshape.backward(flatten.backward(grad)), grad)
    assert reshape.backward(grad.reshape(2, 3, 2, 2)).shape == (2, 12)


def small_mlp(seed=0):
    """A 3 -> 8 -> 2 MLP and the same network in torch."""
    first, first_torch = dense_like_torch(3, 8, seed)
    second, second_torch = dense_like_torch(8, 2, seed + 10)
    ours = Sequential(first, LeakyReLU(), second, Tanh())
    theirs = torch.nn.Sequential(
        first_torch, torch.nn.LeakyReLU(0.2), second_torch, torch.nn.Tanh()
    )
    return ours, theirs


def test_sequential_matches_torch():
    ours, theirs = small_mlp()
    check_against_torch(ours, theirs, np.random.default_rng(6).normal(size=(9, 3)))


def test_sequential_is_indexable_and_concatenates_parameters():
    ours, _ = small_mlp()
    assert len(ours) == 4 and len(ours.layers) == 4
    assert isinstance(ours[0], Dense) and isinstance(ours[-1], Tanh)
    pairs = ours.parameters()
    assert len(pairs) == 4
    assert pairs[0][0] is ours[0].params["W"] and pairs[0][1] is ours[0].grads["W"]
    assert pairs[3][0] is ours[2].params["b"]
    assert isinstance(ours[:2], Sequential) and len(ours[:2]) == 2


def test_backward_leaves_weights_alone_and_accumulates_grads():
    net, _ = small_mlp()
    x = np.random.default_rng(7).normal(size=(4, 3))
    before = [param.copy() for param, _ in net.parameters()]
    grad_arrays = [grad for _, grad in net.parameters()]
    upstream = np.ones((4, 2))
    net.forward(x)
    net.backward(upstream)
    once = [grad.copy() for grad in grad_arrays]
    net.forward(x)
    net.backward(upstream)
    for (param, grad), saved, single in zip(
        net.parameters(), before, once, strict=True
    ):
        np.testing.assert_array_equal(param, saved)
        assert np.abs(single).sum() > 0
        np.testing.assert_allclose(grad, 2 * single)
    net.zero_grad()
    for (_, grad), array in zip(net.parameters(), grad_arrays, strict=True):
        assert grad is array and not grad.any()


def test_parameters_are_the_arrays_themselves():
    dense = Dense(2, 3, rng=0)
    (weight, weight_grad), (bias, bias_grad) = dense.parameters()
    weight += 1.0
    np.testing.assert_array_equal(dense.params["W"], weight)
    assert weight_grad is dense.grads["W"] and bias is dense.params["b"]
    assert bias_grad.shape == bias.shape


def test_dense_options():
    a, b = Dense(4, 3, rng=5), Dense(4, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert not np.array_equal(a.params["W"], Dense(4, 3, rng=6).params["W"])
    small = Dense(4, 3, init="normal", rng=0, dtype=np.float32)
    assert small.params["W"].dtype == np.float32 == small.grads["W"].dtype
    assert small.forward(np.ones((2, 4), dtype=np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="unknown init"):
        Dense(4, 3, init="orthogonal")


def test_base_layer_is_abstract():
    with pytest.raises(NotImplementedError):
        Layer().forward(np.zeros(2))
