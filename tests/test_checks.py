"""Each exercise check passes the right answer and names the usual mistakes."""

import numpy as np
import pytest
import torch

from gancourse.checks import (
    ExerciseError,
    check_numerical_gradient,
    check_scale_pixels,
    check_sigmoid_backward,
    check_to_display,
)


def stub(*args):
    raise NotImplementedError


def _rows_of_a_matrix(pixels):
    """A loop over the rows of a 2-D tensor: right for (2, 3), nothing else."""
    return torch.tensor([[v / 127.5 - 1 for v in row] for row in pixels.tolist()])


def test_scale_pixels_check_accepts_the_solution(capsys):
    check_scale_pixels(lambda x: x.float() / 127.5 - 1)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x: x / 255, "that is \\[0, 1\\]"),
        (lambda x: 2 * x.float() / 250 - 1, "divided by 250"),
        (lambda x: x // 127.5 - 1, "the middle is not"),
        (lambda x: x - 1, "convert to float"),
        (lambda x: x.float().flatten() / 127.5 - 1, "changed the shape"),
        (lambda x: x.float() / 127.5, "0 should map to -1"),
        (lambda x: x.numpy() / 127.5 - 1, "as a torch tensor"),
        (lambda x: undefined_name, "raised NameError"),  # noqa: F821
        (lambda x: (x * 2) / 255 - 1, "pixels \\* 2 overflowed"),
        (_rows_of_a_matrix, r"pixels of shape \(256,\).*any shape works"),
        (
            lambda x: x.float() / torch.full(x.shape, 127.5) - 1,
            "would fail on a GPU.*device=x.device",
        ),
    ],
)
def test_scale_pixels_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_scale_pixels(answer)


def test_to_display_check_accepts_the_solution(capsys):
    check_to_display(lambda x: (x + 1) / 2)
    assert "Correct" in capsys.readouterr().out


def _in_place(x):
    x.add_(1).div_(2)
    return x


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x: x, "unchanged"),
        (lambda x: x / 2, "did not shift"),
        (_in_place, "changed the images it was given"),
        (lambda x: x + 1, "-1 should map to 0"),
        (
            lambda x: x.flatten()[None, None, None] / 2 + 0.5,
            r"images of shape \(4, 5\)",
        ),
        (
            lambda x: torch.zeros(x.shape).copy_((x + 1) / 2),
            "returns a tensor on the CPU.*device=",
        ),
        (
            lambda x: torch.zeros(x.shape, device=x.device).copy_((x + 1) / 2),
            "float32 result for float64 inputs.*dtype=x.dtype",
        ),
    ],
)
def test_to_display_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_to_display(answer)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _loop_over_rows_and_columns(z, grad_out):
    out = np.zeros(z.shape)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            s = _sigmoid(z[i, j])
            out[i, j] = grad_out[i, j] * s * (1 - s)
    return out


def _into_zeros_like(z, grad_out):
    out = np.zeros_like(z)  # integer when z is
    out[...] = grad_out * _sigmoid(z) * (1 - _sigmoid(z))
    return out


def test_sigmoid_backward_check_accepts_the_solution(capsys):
    check_sigmoid_backward(lambda z, g: g * _sigmoid(z) * (1 - _sigmoid(z)))
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda z, g: _sigmoid(z) * (1 - _sigmoid(z)), "multiplies it by the gradient"),
        (lambda z, g: g * _sigmoid(z), "not by its derivative"),
        (lambda z, g: g * z * (1 - z), "not its input z"),
        (lambda z, g: g * _sigmoid(z) * (1 + _sigmoid(z)), "values are wrong"),
        (lambda z, g: (g * _sigmoid(z) * (1 - _sigmoid(z))).sum(), "shape"),
        (_loop_over_rows_and_columns, r"1-D z of shape \(5,\).*any shape works"),
        (_into_zeros_like, "integer z.*np.zeros_like\\(z, dtype=float\\)"),
    ],
)
def test_sigmoid_backward_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_sigmoid_backward(answer)


def _central(f, x, h=1e-5):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


def _forward(f, x, h=1e-5):
    return np.array([(f(x + h * e) - f(x)) / h for e in np.eye(len(x))])


def _in_place_nudge(f, x, h=1e-5):
    grad = np.zeros(len(x))
    for i in range(len(x)):
        x[i] += h
        up = f(x)
        x[i] -= 2 * h
        grad[i] = (up - f(x)) / (2 * h)
    return grad


def _nudged_copies(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in range(len(x)):
        up, down = x.copy(), x.copy()  # integer copies of an integer x
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


def _central_in_floats(f, x, h=1e-5):
    x = x.astype(float)
    grad = np.zeros_like(x)
    for i in range(len(x)):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


@pytest.mark.parametrize("answer", [_central, _central_in_floats])
def test_numerical_gradient_check_accepts_the_solution(answer, capsys):
    check_numerical_gradient(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (_forward, "forward difference"),
        (lambda f, x, h: 2 * _central(f, x, h), "twice too big"),
        (_in_place_nudge, "put it back"),
        (lambda f, x, h: _central(f, x, h)[:2], "one partial derivative per entry"),
        (lambda f, x, h: -_central(f, x, h), "the gradient is"),
        (lambda f, x, h: _central(f, x), "ignores its argument h"),
        (_nudged_copies, "integer x = \\[1, -2, 3\\].*stays integer"),
    ],
)
def test_numerical_gradient_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_numerical_gradient(answer)
