"""Notebook 10's checks pass the right answers and name the usual mistakes."""

import numpy as np
import pytest
import torch

from gancourse.checks.capstone_pegasus import check_pegasus_score, check_top_k_samples
from gancourse.checks.core import ExerciseError


def stub(*args):
    raise NotImplementedError


# ---- pegasus_score ------------------------------------------------------------


def pegasus_score(probs, horse, bird):
    return torch.minimum(probs[:, horse], probs[:, bird])


def pegasus_score_stacked(probs, horse, bird):
    return torch.stack([probs[:, horse], probs[:, bird]], dim=1).min(dim=1).values


def pegasus_score_numpy(probs, horse, bird):
    return np.minimum(probs[:, horse].numpy(), probs[:, bird].numpy())


def pegasus_in_place(probs, horse, bird):
    probs[:, horse] = torch.minimum(probs[:, horse], probs[:, bird])
    return probs[:, horse].clone()


def pegasus_filled_on_the_cpu(probs, horse, bird):
    scores = torch.empty(len(probs))  # no device=, no dtype=
    scores[:] = torch.minimum(probs[:, horse], probs[:, bird])
    return scores


def pegasus_filled_as_float32(probs, horse, bird):
    scores = torch.empty(len(probs), device=probs.device)  # no dtype=
    scores[:] = torch.minimum(probs[:, horse], probs[:, bird])
    return scores


@pytest.mark.parametrize(
    "answer", [pegasus_score, pegasus_score_stacked, pegasus_score_numpy]
)
def test_pegasus_score_check_accepts_solutions(answer, capsys):
    check_pegasus_score(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda p, h, b: p[:, h] * p[:, b], "product"),
        (lambda p, h, b: p[:, h] + p[:, b], "sum"),
        (lambda p, h, b: (p[:, h] + p[:, b]) / 2, "mean"),
        (lambda p, h, b: torch.maximum(p[:, h], p[:, b]), "larger of the two"),
        (lambda p, h, b: pegasus_score(p.softmax(dim=1), h, b), "softmax to probs"),
        (lambda p, h, b: pegasus_score(p.log(), h, b), "log-probabilities"),
        (lambda p, h, b: pegasus_score(p, 0, 1), "columns 0 and 1"),
        (lambda p, h, b: p.min(dim=1).values, "all K classes"),
        (lambda p, h, b: torch.minimum(p[h], p[b]), "rows"),
        (
            lambda p, h, b: torch.stack([p[:, h], p[:, b]]).min(dim=1).values,
            "one number per sample",
        ),
        (
            lambda p, h, b: torch.stack([p[:, h], p[:, b]], dim=1).min(dim=1),
            "values, indices",
        ),
        (pegasus_in_place, "changed the probabilities"),
        (lambda p, h, b: "horse", "as a torch tensor"),
        (lambda p, h, b: pegasus_score(p, h, b) * 0.9, "the scores start"),
        (pegasus_filled_on_the_cpu, "returns a tensor on the CPU.*device="),
        (pegasus_filled_as_float32, "float32 result for float64 inputs"),
    ],
)
def test_pegasus_score_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_pegasus_score(answer)


# ---- top_k_samples ----------------------------------------------------------------


def top_k_samples(images, scores, k):
    order = scores.argsort(descending=True)[:k]
    return images[order], scores[order]


def top_k_with_topk(images, scores, k):
    values, order = torch.topk(scores, k)
    return images[order], values


def ascending(images, scores, k):
    order = scores.argsort()[:k]
    return images[order], scores[order]


def best_but_lowest_first(images, scores, k):
    order = scores.argsort()[-k:]
    return images[order], scores[order]


def scores_only(images, scores, k):
    return images[:k], scores.sort(descending=True).values[:k]


def shuffled_images(images, scores, k):
    order = scores.argsort(descending=True)[:k]
    return images[order.flip(0)], scores[order]


def four_dimensional_only(images, scores, k):
    order = scores.argsort(descending=True)[:k]
    return images[order, :, :, :], scores[order]


def images_copied_to_the_cpu(images, scores, k):
    order = scores.argsort(descending=True)[:k]
    best = torch.zeros(k, *images.shape[1:])  # no device=
    best[:] = images[order]
    return best, scores[order]


def sort_in_place(images, scores, k):
    order = scores.argsort(descending=True)
    scores[:] = scores[order].clone()
    return images[order[:k]], scores[:k].clone()


@pytest.mark.parametrize("answer", [top_k_samples, top_k_with_topk])
def test_top_k_check_accepts_solutions(answer, capsys):
    check_top_k_samples(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (ascending, "LOWEST"),
        (best_but_lowest_first, "lowest first"),
        (scores_only, "first k, unsorted"),
        (shuffled_images, "do not belong to their scores"),
        (sort_in_place, "changed the images or scores"),
        (lambda x, s, k: s.argsort(descending=True)[:k], "two things"),
        (
            lambda x, s, k: (s.argsort(descending=True)[:k], s.sort().values[:k]),
            "indices or scores",
        ),
        (lambda x, s, k: top_k_samples(x, s, k + 1), "Keep exactly k"),
        (lambda x, s, k: (list(top_k_samples(x, s, k)[0]), s[:k]), "not lists"),
        (lambda x, s, k: (top_k_samples(x, s, k)[0], s), "return k = "),
        (
            lambda x, s, k: (top_k_samples(x, s, k)[0], top_k_samples(x, s, k)[1] / 2),
            "highest of the scores",
        ),
        (four_dimensional_only, r"rows of shape \(7,\).*one row per sample"),
        (images_copied_to_the_cpu, "returns a tensor on the CPU.*device="),
    ],
)
def test_top_k_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_top_k_samples(answer)
