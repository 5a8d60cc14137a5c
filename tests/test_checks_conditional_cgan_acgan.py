"""Notebook 08's checks pass the right answers and name the usual mistakes."""

import pytest
import torch
import torch.nn.functional as F

from gancourse.checks.conditional_cgan_acgan import (
    check_acgan_d_loss,
    check_conditional_input,
    check_one_row_per_class,
)
from gancourse.checks.core import ExerciseError

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models, busy machine


def stub(*args):
    raise NotImplementedError


# ---- exercise 1: D's input -------------------------------------------------------


def conditional_input(images, labels, embedding):
    n, _, height, width = images.shape
    return torch.cat([images, embedding(labels).view(n, 1, height, width)], dim=1)


def _plane(images, labels, embedding):
    n, _, height, width = images.shape
    return embedding(labels).view(n, 1, height, width)


def _one_hot_planes(images, labels, embedding):
    n, _, height, width = images.shape
    one_hot = F.one_hot(labels, embedding.num_embeddings).float()  # (N, K)
    planes = one_hot[:, :, None, None].expand(n, -1, height, width)
    return torch.cat([images, planes], dim=1)


def _width_then_height(images, labels, embedding):
    n, _, height, width = images.shape
    return torch.cat([images, embedding(labels).view(n, 1, width, height)], dim=1)


def _plane_made_on_the_cpu(images, labels, embedding):
    n, _, height, width = images.shape
    plane = torch.zeros(n, 1, height, width)  # on the CPU, whatever the images
    plane[:] = embedding(labels).view(n, 1, height, width)
    return torch.cat([images, plane], dim=1)


def test_conditional_input_check_accepts_the_solution(capsys):
    check_conditional_input(conditional_input)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x, y, e: torch.cat([x, _plane(x, y, e)], dim=0), "along dim 0"),
        (
            lambda x, y, e: torch.cat([x, _plane(x, torch.zeros_like(y), e)], dim=1),
            "the labels never reach D",
        ),
        (lambda x, y, e: x + _plane(x, y, e), "an extra channel"),
        (_one_hot_planes, "one per class"),
        (lambda x, y, e: torch.cat([_plane(x, y, e), x], dim=1), "comes first"),
        (
            lambda x, y, e: torch.cat([x, _plane(x, y, e).detach()], dim=1),
            "no gradient can flow",
        ),
        (
            lambda x, y, e: torch.cat([x, _plane(x, y, e).transpose(2, 3)], dim=1),
            "transposed",
        ),
        (
            lambda x, y, e: torch.cat([x, e(y).view(-1, 1, 28, 28)], dim=1),
            "raised RuntimeError",
        ),
        (lambda x, y, e: torch.cat([x, 2 * _plane(x, y, e)], dim=1), "other values"),
        (lambda x, y, e: torch.cat([x, x], dim=1), "the labels never reach D"),
        (_width_then_height, r"4 high and 9 wide.*view\(n, 1, height, width\)"),
        (_plane_made_on_the_cpu, "would fail on a GPU.*device=x.device"),
    ],
)
def test_conditional_input_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_conditional_input(answer)


# ---- exercise 2: ACGAN's D loss --------------------------------------------------


def acgan_d_loss(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy_with_logits
    source = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
    return source + F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def _sigmoid_first(lr, cr, lf, cf, yr, yf):
    return acgan_d_loss(torch.sigmoid(lr), cr, torch.sigmoid(lf), cf, yr, yf)


def _bce_on_probabilities(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy
    real, fake = torch.sigmoid(lr), torch.sigmoid(lf)
    source = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    return source + F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def _no_fake_class(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy_with_logits
    source = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
    return source + F.cross_entropy(cr, yr)


def _no_real_class(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy_with_logits
    source = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
    return source + F.cross_entropy(cf, yf)


def _swapped_targets(lr, cr, lf, cf, yr, yf):
    return acgan_d_loss(-lr, cr, -lf, cf, yr, yf)


def _per_sample(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy_with_logits
    return (
        bce(lr, torch.ones_like(lr), reduction="none")
        + bce(lf, torch.zeros_like(lf), reduction="none")
        + F.cross_entropy(cr, yr, reduction="none")
        + F.cross_entropy(cf, yf, reduction="none")
    )


def _targets_on_the_cpu(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy_with_logits
    source = bce(lr, torch.ones(len(lr))) + bce(lf, torch.zeros(len(lf)))
    return source + F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def _source_averaged_classes_added(lr, cr, lf, cf, yr, yf):
    bce = F.binary_cross_entropy_with_logits
    source = (bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))) / 2
    return source + F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def test_acgan_d_loss_check_accepts_the_solution(capsys):
    check_acgan_d_loss(acgan_d_loss)
    out = capsys.readouterr().out
    assert "Correct" in out and "Note" not in out


@pytest.mark.parametrize(
    ("divisor", "says"),
    [(2, "the mean of the real and the fake half"), (4, "the mean of the four")],
)
def test_acgan_d_loss_check_accepts_averaged_terms_with_a_note(divisor, says, capsys):
    check_acgan_d_loss(lambda *a: acgan_d_loss(*a) / divisor)
    out = capsys.readouterr().out
    assert says in out and "valid convention" in out and "Correct" in out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (_sigmoid_first, "sigmoid before"),
        (_no_fake_class, "class loss on the generated images is missing"),
        (_no_real_class, "class loss on the real images is missing"),
        (
            lambda lr, cr, lf, cf, yr, yf: acgan_d_loss(lr, cr, lf, cf, yr, yr),
            "real images' labels",
        ),
        (
            lambda lr, cr, lf, cf, yr, yf: (
                F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)
            ),
            "real-versus-fake part L_S is missing",
        ),
        (_swapped_targets, "swapped"),
        (lambda *a: acgan_d_loss(*a) / 3, "yours is"),
        (_source_averaged_classes_added, "weighs L_S half as much as L_C"),
        (_targets_on_the_cpu, "would fail on a GPU.*device=x.device"),
        (lambda *a: acgan_d_loss(*a).item(), "as a torch tensor"),
        (lambda *a: acgan_d_loss(*a).detach(), "no gradient"),
        (_per_sample, "one number"),
        (_bce_on_probabilities, "saturates"),
        (lambda *a: acgan_d_loss(*a) + 0.1, "yours is"),
    ],
)
def test_acgan_d_loss_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_acgan_d_loss(answer)


# ---- exercise 3: one row per class ----------------------------------------------


def one_row_per_class(G, z, num_classes):
    labels = torch.arange(num_classes, device=z.device).repeat_interleave(len(z))
    was_training = G.training
    G.eval()
    try:
        with torch.no_grad():
            return G(z.repeat(num_classes, 1), labels)
    finally:
        G.train(was_training)


def _sampled(function):
    """Wrap a sampling body in eval mode and no_grad, restoring G's mode."""

    def answer(G, z, num_classes):
        was_training = G.training
        G.eval()
        try:
            with torch.no_grad():
                return function(G, z, num_classes)
        finally:
            G.train(was_training)

    return answer


@_sampled
def _new_noise_per_class(G, z, num_classes):
    rows = [
        G(torch.randn_like(z), torch.full((len(z),), label))
        for label in range(num_classes)
    ]
    return torch.cat(rows)


@_sampled
def _columns_are_classes(G, z, num_classes):
    labels = torch.arange(num_classes).repeat(len(z))
    return G(z.repeat_interleave(num_classes, 0), labels)


@_sampled
def _as_a_stack(G, z, num_classes):
    return torch.stack([G(z, torch.full((len(z),), k)) for k in range(num_classes)])


def _train_mode(G, z, num_classes):
    with torch.no_grad():
        return G(
            z.repeat(num_classes, 1), torch.arange(num_classes).repeat_interleave(4)
        )


def _left_in_eval(G, z, num_classes):
    G.eval()
    with torch.no_grad():
        return G(
            z.repeat(num_classes, 1), torch.arange(num_classes).repeat_interleave(4)
        )


def _with_graph(G, z, num_classes):
    G.eval()
    out = G(z.repeat(num_classes, 1), torch.arange(num_classes).repeat_interleave(4))
    G.train()
    return out


def _always_back_to_training(G, z, num_classes):
    labels = torch.arange(num_classes, device=z.device).repeat_interleave(len(z))
    G.eval()
    with torch.no_grad():
        out = G(z.repeat(num_classes, 1), labels)
    G.train()  # right only when G came in in training mode
    return out


@_sampled
def _four_per_row(G, z, num_classes):
    labels = torch.arange(num_classes, device=z.device).repeat_interleave(4)
    return G(z.repeat(num_classes, 1), labels)


@_sampled
def _labels_on_the_cpu(G, z, num_classes):
    labels = torch.arange(num_classes).repeat_interleave(len(z))  # no device=
    return G(z.repeat(num_classes, 1), labels)


def test_one_row_per_class_check_accepts_the_solution(capsys):
    check_one_row_per_class(one_row_per_class)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (_new_noise_per_class, "reuse the same noise"),
        (_columns_are_classes, "columns are classes"),
        (_as_a_stack, "shape"),
        (_train_mode, "BatchNorm uses the batch's statistics"),
        (_left_in_eval, "left in eval mode"),
        (_with_graph, "no_grad"),
        (_always_back_to_training, "came in in eval mode and is left in training"),
        (_four_per_row, "for 5 classes, 2 noise vectors"),
        (_labels_on_the_cpu, "would fail on a GPU.*device=x.device"),
    ],
)
def test_one_row_per_class_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_one_row_per_class(answer)


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_conditional_input(conditional_input)
    check_acgan_d_loss(acgan_d_loss)
    check_one_row_per_class(one_row_per_class)
    assert torch.equal(torch.rand(3), expected)
