"""Notebook 02's checks pass the right answer and name the usual mistakes."""

import math

import numpy as np
import pytest
import torch

from gancourse.checks.core import ExerciseError
from gancourse.checks.numpy_layers_and_classifier import (
    check_conv_output_size,
    check_dense_backward,
    check_kfold_split,
)
from gancourse.nn_numpy import Dense
from gancourse.numpy_gans.classify import (
    accuracy,
    minibatches,
    predict,
    softmax_cross_entropy,
)


def stub(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "answer",
    [
        lambda h, k, s, p: (h + 2 * p - k) // s + 1,
        lambda h, k, s, p: math.floor((h + 2 * p - k) / s) + 1,  # an int too
        lambda h, k, s, p: np.int64((h + 2 * p - k) // s + 1),
    ],
)
def test_conv_output_size_check_accepts_the_solution(answer, capsys):
    check_conv_output_size(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda h, k, s, p: (h + 2 * p - k) // s, "forgot the \\+ 1"),
        (lambda h, k, s, p: (h + p - k) // s + 1, "padding once"),
        (lambda h, k, s, p: (h + 2 * p - k) / s + 1, "a fraction"),
        (lambda h, k, s, p: math.ceil((h + 2 * p - k) / s) + 1, "rounded up"),
        (lambda h, k, s, p: (h - 1) * s - 2 * p + k, "the output has"),
        (lambda h, k, s, p: str(h), "should be one number"),
        (lambda h, k, s, p: np.floor((h + 2 * p - k) / s) + 1, "a float64.*an int"),
        (lambda h, k, s, p: float((h + 2 * p - k) // s + 1), "a float.*an int"),
    ],
)
def test_conv_output_size_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_conv_output_size(answer)


def _dense_backward(x, W, g):
    return g.T @ x, g.sum(axis=0), g @ W


def _in_place(x, W, g):
    g *= 1.0
    x += 0.0
    W[0, 0] += 1.0
    return _dense_backward(x, W, g)


def test_dense_backward_check_accepts_the_solution(capsys):
    check_dense_backward(_dense_backward)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x, W, g: (g.T @ x, g, g @ W), "sum grad_out over the batch"),
        (lambda x, W, g: (g.T @ x, g.mean(axis=0), g @ W), "batch mean"),
        (lambda x, W, g: (g.T @ x, g.sum(axis=1), g @ W), "grad_b should have shape"),
        (lambda x, W, g: (x.T @ g, g.sum(axis=0), g @ W), "grad_W is transposed"),
        (lambda x, W, g: (g.T @ x / len(x), g.sum(0), g @ W), "grad_out.T @ x"),
        (lambda x, W, g: (g.T @ x, g.sum(axis=0), g @ W.T), "grad_x uses W.T"),
        (lambda x, W, g: (g.T @ x, g.sum(axis=0), -g @ W), "grad_x should be"),
        (lambda x, W, g: (g.T @ x, g.sum(axis=0)), "three arrays"),
        (_in_place, "in place"),
        (lambda x, W, g: (g.T @ x[:, :3], g.sum(0), g @ W), "non-square|Dense\\(6"),
    ],
)
def test_dense_backward_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_dense_backward(answer)


def _kfold(n, k, rng):
    folds = np.array_split(rng.permutation(n), k)
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_unshuffled(n, k, rng):
    folds = np.array_split(np.arange(n), k)
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_drops_the_remainder(n, k, rng):
    order, size = rng.permutation(n), n // k
    folds = [order[i * size : (i + 1) * size] for i in range(k)]
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_random_each_fold(n, k, rng):
    folds = [rng.choice(n, size=n // k, replace=False) for _ in range(k)]
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_trains_on_everything(n, k, rng):
    return [(np.arange(n), test) for _, test in _kfold(n, k, rng)]


def _kfold_train_misses_samples(n, k, rng):
    return [(train[1:], test) for train, test in _kfold(n, k, rng)]


def _kfold_unbalanced(n, k, rng):
    order = rng.permutation(n)
    cuts = [0, 10, 20, 30, 40, n]
    folds = [order[a:b] for a, b in zip(cuts, cuts[1:], strict=False)]
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_global_rng(n, k, rng):
    folds = np.array_split(np.random.permutation(n), k)
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_own_seed(n, k, rng):
    folds = np.array_split(np.random.default_rng(0).permutation(n), k)
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def _kfold_five_folds(n, k, rng):
    folds = np.array_split(rng.permutation(n), 5)
    return [(np.setdiff1d(np.arange(n), f), f) for f in folds]


def test_kfold_split_check_accepts_the_solution(capsys):
    check_kfold_split(_kfold)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (_kfold_unshuffled, "shuffle the indices"),
        (_kfold_drops_the_remainder, "miss 3 samples"),
        (_kfold_random_each_fold, "overlap"),
        (_kfold_trains_on_everything, "both train_idx and test_idx"),
        (_kfold_train_misses_samples, "every sample not in test_idx"),
        (_kfold_unbalanced, "sizes"),
        (lambda n, k, rng: _kfold(n, k - 1, rng), "got 4"),
        (lambda n, k, rng: [f[1] for f in _kfold(n, k, rng)], "a pair"),
        (lambda n, k, rng: [(tr, te / 1) for tr, te in _kfold(n, k, rng)], "integer"),
        (_kfold_global_rng, "same seed give different folds.*not np.random"),
        (_kfold_own_seed, "ignores its rng argument"),
        (_kfold_five_folds, "asked for k=3 folds, got 5"),
        (lambda n, k, rng: None, "returns None"),
        (lambda n, k, rng: 0.8, "a list of k pairs .* got a float"),
        (lambda n, k, rng: np.float64(0.8), "a list of k pairs"),
    ],
)
def test_kfold_split_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_kfold_split(answer)


def test_softmax_cross_entropy_matches_torch():
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(0, 3, (6, 4)), rng.integers(0, 4, 6)
    loss, grad = softmax_cross_entropy(logits, labels)
    logits_torch = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(logits_torch, torch.tensor(labels))
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(grad, logits_torch.grad.numpy(), atol=1e-12)
    big, _ = softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert big == pytest.approx(2000.0)  # no overflow to inf or nan


def test_minibatches_cover_every_sample_once():
    batches = list(minibatches(10, 4, np.random.default_rng(0)))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))


def test_predict_and_accuracy():
    dense = Dense(3, 2, rng=0)
    x = np.random.default_rng(1).normal(size=(7, 3))
    predictions = predict(dense, x, batch_size=3)
    np.testing.assert_array_equal(predictions, (x @ dense.params["W"].T).argmax(1))
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
