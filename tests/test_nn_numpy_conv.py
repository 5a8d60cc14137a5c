"""Conv2D, ConvTranspose2D, MaxPool2D and Pad2D against torch and by hand."""

import numpy as np
import pytest
import torch

from gancourse.nn_numpy import Conv2D, ConvTranspose2D, MaxPool2D, Pad2D
from gancourse.nn_numpy.conv import col2im, im2col
from tests.test_nn_numpy_layers import check_against_torch, finite_difference_check

# (batch, in_channels, out_channels, height, width, kernel, stride, padding)
CASES = [
    (2, 3, 4, 7, 5, 3, 1, 0),
    (2, 3, 4, 7, 5, 3, 1, 1),
    (3, 2, 3, 8, 6, 3, 2, 0),
    (1, 2, 3, 9, 6, 3, 2, 1),
    (1, 1, 2, 6, 6, 4, 2, 1),
    (2, 2, 2, 5, 8, 2, 1, 0),
]
CASE_IDS = [f"n{c[0]}-{c[3]}x{c[4]}-k{c[5]}-s{c[6]}-p{c[7]}" for c in CASES]


def with_bias(layer, seed):
    """Give a layer a nonzero bias so the tests see it."""
    layer.params["b"][:] = np.random.default_rng(seed).normal(
        size=layer.params["b"].shape
    )
    return layer


def copy_weights(layer, torch_layer):
    """Copy W and b into a torch convolution, as float64."""
    torch_layer.double()
    with torch.no_grad():
        torch_layer.weight.copy_(torch.tensor(layer.params["W"]))
        torch_layer.bias.copy_(torch.tensor(layer.params["b"]))
    return torch_layer


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_conv2d_matches_torch(case):
    n, c_in, c_out, h, w, k, s, p = case
    conv = with_bias(Conv2D(c_in, c_out, k, stride=s, padding=p, rng=0), 1)
    assert conv.params["W"].shape == (c_out, c_in, k, k)
    torch_conv = copy_weights(conv, torch.nn.Conv2d(c_in, c_out, k, s, p))
    x = np.random.default_rng(2).normal(size=(n, c_in, h, w))
    check_against_torch(conv, torch_conv, x)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_conv_transpose2d_matches_torch(case):
    n, c_in, c_out, h, w, k, s, p = case
    deconv = with_bias(ConvTranspose2D(c_in, c_out, k, stride=s, padding=p, rng=0), 1)
    assert deconv.params["W"].shape == (c_in, c_out, k, k)
    torch_deconv = copy_weights(deconv, torch.nn.ConvTranspose2d(c_in, c_out, k, s, p))
    x = np.random.default_rng(2).normal(size=(n, c_in, h, w))
    y = deconv.forward(x)
    assert y.shape == (n, c_out, (h - 1) * s - 2 * p + k, (w - 1) * s - 2 * p + k)
    check_against_torch(deconv, torch_deconv, x)


@pytest.mark.parametrize("layer_class", [Conv2D, ConvTranspose2D])
@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1)])
def test_convolutions_match_finite_differences(layer_class, stride, padding):
    layer = with_bias(layer_class(2, 3, 3, stride=stride, padding=padding, rng=3), 4)
    x = np.random.default_rng(5).normal(size=(2, 2, 6, 5))
    finite_difference_check(layer, x)


@pytest.mark.parametrize("layer_class", [Conv2D, ConvTranspose2D])
def test_conv_backward_leaves_weights_alone_and_accumulates(layer_class):
    layer = layer_class(2, 3, 3, stride=2, padding=1, rng=6)
    x = np.random.default_rng(7).normal(size=(2, 2, 7, 6))
    weights = layer.params["W"].copy()
    upstream = np.random.default_rng(8).normal(size=layer.forward(x).shape)
    layer.backward(upstream)
    once = layer.grads["W"].copy()
    layer.backward(upstream)
    np.testing.assert_array_equal(layer.params["W"], weights)
    np.testing.assert_allclose(layer.grads["W"], 2 * once)
    grad_array = layer.grads["W"]
    layer.zero_grad()
    assert layer.grads["W"] is grad_array and not grad_array.any()


def test_conv2d_is_a_cross_correlation_worked_by_hand():
    conv = Conv2D(1, 1, 2, rng=0)
    conv.params["W"][:] = np.array([[1.0, 2.0], [3.0, 4.0]])
    conv.params["b"][:] = 0.5
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    expected = [[0 + 2 + 9 + 16, 1 + 4 + 12 + 20], [3 + 8 + 18 + 28, 4 + 10 + 21 + 32]]
    np.testing.assert_allclose(conv.forward(x)[0, 0], np.array(expected) + 0.5)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 3, 7, 6))
    columns, (h_out, w_out) = im2col(x, 3, 2)
    assert (h_out, w_out) == (3, 2) and columns.shape == (3 * 9, 2 * h_out * w_out)
    np.testing.assert_array_equal(columns[:, 0], x[0, :, :3, :3].ravel())
    other = rng.normal(size=columns.shape)
    back = col2im(other.reshape(3, 3, 3, 2, h_out, w_out), x.shape, 3, 2)
    assert back.shape == x.shape
    assert np.sum(columns * other) == pytest.approx(np.sum(x * back))


def test_pad2d_dilates_and_pads_and_slices_back():
    x = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)
    pad = Pad2D(edge=1, pixel=1)
    y = pad.forward(x)
    expected = np.zeros((5, 7))  # (2 + 1 + 2, 3 + 2 + 2)
    expected[1:4:2, 1:6:2] = x[0, 0]
    assert y.shape == (1, 1, 5, 7)
    np.testing.assert_array_equal(y[0, 0], expected)
    np.testing.assert_array_equal(pad.backward(y), x)
    np.testing.assert_array_equal(Pad2D().forward(x), x)
    finite_difference_check(pad, np.random.default_rng(10).normal(size=(2, 2, 3, 4)))


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 0), (2, 1)])
def test_transposed_convolution_is_padding_then_convolution(stride, padding):
    k = 3
    deconv = with_bias(
        ConvTranspose2D(2, 3, k, stride=stride, padding=padding, rng=1), 2
    )
    conv = Conv2D(2, 3, k, rng=0)
    # swap in and out channels and flip the kernel in space
    conv.params["W"][:] = deconv.params["W"].transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
    conv.params["b"][:] = deconv.params["b"]
    pad = Pad2D(edge=k - 1 - padding, pixel=stride - 1)
    x = np.random.default_rng(3).normal(size=(2, 2, 4, 5))
    np.testing.assert_allclose(conv.forward(pad.forward(x)), deconv.forward(x))


@pytest.mark.parametrize(("shape", "pool"), [((2, 3, 6, 4), 2), ((1, 2, 7, 9), 3)])
def test_maxpool_matches_torch(shape, pool):
    x = np.random.default_rng(11).normal(size=shape)
    check_against_torch(MaxPool2D(pool), torch.nn.MaxPool2d(pool), x)


def test_maxpool_routes_ties_to_the_first_maximum_like_torch():
    x = np.array([[[[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]]]])
    pool = MaxPool2D(2)
    np.testing.assert_array_equal(pool.forward(x), [[[[3.0, 0.0]]]])
    grad = pool.backward(np.array([[[[5.0, 7.0]]]]))
    x_torch = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(x_torch, 2).backward(torch.tensor([[[[5.0, 7.0]]]]))
    np.testing.assert_array_equal(grad, x_torch.grad.numpy())
    assert grad[0, 0, 0, 1] == 5.0 and grad[0, 0, 1, 0] == 0.0
