"""Notebook 11's checks pass the right answers and name the usual mistakes."""

import copy

import pytest
import torch

from gancourse.augment import translate as library_translate
from gancourse.checks.core import ExerciseError
from gancourse.checks.modern_gans import (
    check_ema_update,
    check_r1_penalty,
    check_translate,
)
from gancourse.losses import zero_centred_penalty

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models, busy machine


def stub(*args):
    raise NotImplementedError


def empty(*args):
    pass


# ---------------------------------------------------------------- R1 penalty


def r1_penalty(D, images):
    x = images.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return grads.flatten(1).pow(2).sum(1).mean()


def test_r1_check_accepts_the_solution(capsys):
    check_r1_penalty(r1_penalty)
    assert "Correct" in capsys.readouterr().out


def test_r1_check_accepts_the_library_penalty(capsys):
    check_r1_penalty(zero_centred_penalty)
    assert "Correct" in capsys.readouterr().out


def _r1_with(
    reduce=lambda grads: grads.flatten(1).pow(2).sum(1).mean(),
    create_graph=True,
    detach_input=True,
    detach_result=False,
):
    """The penalty with one step done a given (right or wrong) way."""

    def answer(D, images):
        x = images.detach() if detach_input else images
        x = x.requires_grad_(True)
        (grads,) = torch.autograd.grad(D(x).sum(), x, create_graph=create_graph)
        out = reduce(grads)
        return out.detach() if detach_result else out

    return answer


def no_requires_grad(D, images):
    (grads,) = torch.autograd.grad(D(images).sum(), images, create_graph=True)
    return grads.flatten(1).pow(2).sum(1).mean()


def weight_gradients(D, images):
    grads = torch.autograd.grad(
        D(images).sum(), list(D.parameters()), create_graph=True
    )
    return sum(g.pow(2).sum() for g in grads)


def with_backward(D, images):
    x = images.detach().requires_grad_(True)
    D(x).sum().backward(create_graph=True)
    return x.grad.flatten(1).pow(2).sum(1).mean()


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (empty, "returns nothing"),
        (no_requires_grad, "does not require grad.*requires_grad_\\(True\\)"),
        (weight_gradients, "only called on images that do not require grad"),
        (_r1_with(create_graph=False), "cannot train D|would not train D"),
        (_r1_with(detach_result=True), "would not train D.*detach"),
        (_r1_with(reduce=lambda g: g.flatten(1).norm(dim=1).mean()), "not squared"),
        (
            _r1_with(reduce=lambda g: g.flatten(1).pow(2).sum(1).sum()),
            "sum over the batch",
        ),
        (_r1_with(reduce=lambda g: g.norm() ** 2), "sum over the batch"),
        (_r1_with(reduce=lambda g: g.norm()), "one norm for the whole batch"),
        (
            _r1_with(reduce=lambda g: ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()),
            "WGAN-GP",
        ),
        (_r1_with(reduce=lambda g: g.norm(dim=1).pow(2).mean()), "wrong dimensions"),
        (_r1_with(reduce=lambda g: g.pow(2).mean()), "wrong dimensions"),
        (_r1_with(reduce=lambda g: g.flatten(1).pow(2).sum(1)), "one number"),
        (_r1_with(reduce=lambda g: g.flatten(1).pow(2).sum(1).mean() / 2), "half"),
        (_r1_with(detach_input=False), "carries G's graph"),
        pytest.param(
            with_backward,
            "left gradients in D's .grad",
            marks=pytest.mark.filterwarnings("ignore:Using backward"),
        ),
        (
            _r1_with(reduce=lambda g: g.flatten(1).pow(2).sum(1).mean() + 1),
            "you give",
        ),
        (
            _r1_with(
                reduce=lambda g: (
                    g.flatten(1).pow(2).sum(1) * torch.ones(len(g))
                ).mean()
            ),
            "would fail on a GPU",
        ),
    ],
)
def test_r1_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_r1_penalty(answer)


def test_r1_check_sees_a_detached_gradient_on_a_nonlinear_critic():
    def detached_on_conv(D, images):
        out = r1_penalty(D, images)
        if hasattr(D, "w"):  # fool the quadratic stage, fail on the conv D
            return out
        return out.detach().requires_grad_(True)

    with pytest.raises(ExerciseError, match="gradient for D's weights is not"):
        check_r1_penalty(detached_on_conv)


# ---------------------------------------------------------------- EMA update


@torch.no_grad()
def ema_update(average, model, beta):
    for a, p in zip(average.parameters(), model.parameters(), strict=True):
        a.mul_(beta).add_(p, alpha=1 - beta)
    for a, b in zip(average.buffers(), model.buffers(), strict=True):
        a.copy_(b)


def test_ema_check_accepts_the_solution(capsys):
    check_ema_update(ema_update)
    assert "Correct" in capsys.readouterr().out


def test_ema_check_accepts_lerp(capsys):
    @torch.no_grad()
    def with_lerp(average, model, beta):
        for a, p in zip(average.parameters(), model.parameters(), strict=True):
            a.lerp_(p, 1 - beta)
        for a, b in zip(average.buffers(), model.buffers(), strict=True):
            a.copy_(b)

    check_ema_update(with_lerp)
    assert "Correct" in capsys.readouterr().out


def _ema_with(new=lambda a, p, beta: beta * a + (1 - beta) * p, buffers="copy"):
    @torch.no_grad()
    def answer(average, model, beta):
        for a, p in zip(average.parameters(), model.parameters(), strict=True):
            a.copy_(new(a, p, beta))
        for a, b in zip(average.buffers(), model.buffers(), strict=True):
            if buffers == "copy":
                a.copy_(b)
            elif buffers == "average" and a.is_floating_point():
                a.copy_(beta * a + (1 - beta) * b)

    return answer


def rebinding(average, model, beta):
    for a, p in zip(average.parameters(), model.parameters(), strict=True):
        a = beta * a + (1 - beta) * p  # noqa: PLW2901
    return copy.deepcopy(average)


def no_no_grad(average, model, beta):
    for a, p in zip(average.parameters(), model.parameters(), strict=True):
        a.mul_(beta).add_(p, alpha=1 - beta)
    for a, b in zip(average.buffers(), model.buffers(), strict=True):
        a.copy_(b)


@torch.no_grad()
def moves_the_model(average, model, beta):
    for a, p in zip(average.parameters(), model.parameters(), strict=True):
        p.lerp_(a, beta)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (empty, "did not change"),
        (rebinding, "did not change.*in place.*returns nothing"),
        (_ema_with(new=lambda a, p, beta: (1 - beta) * a + beta * p), "swapped"),
        (_ema_with(new=lambda a, p, beta: p), "copy of the model"),
        (
            _ema_with(new=lambda a, p, beta: beta * a + (1 - beta) * p.grad),
            "averaged the gradients",
        ),
        (
            _ema_with(new=lambda a, p, beta: 0.999 * a + 0.001 * p),
            "not a fixed 0.999",
        ),
        (
            _ema_with(new=lambda a, p, beta: 0.9 * a + 0.1 * p),
            "right for beta = 0.9 but not for beta = 0.99",
        ),
        (no_no_grad, "now require grad.*torch.no_grad"),
        (_ema_with(buffers="leave"), "buffers were left"),
        (_ema_with(buffers="average"), "copied from the model, not averaged"),
        (moves_the_model, "changed the model"),
        (
            _ema_with(
                new=lambda a, p, beta: (
                    beta * a + (1 - beta) * p * torch.ones(p.shape, dtype=p.dtype)
                )
            ),
            "would fail on a GPU",
        ),
    ],
)
def test_ema_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_ema_update(answer)


def test_ema_check_explains_an_average_that_requires_grad():
    def only_first_call_safe(average, model, beta):
        if any(p.requires_grad for p in average.parameters()):
            for a in average.parameters():
                a.mul_(beta)  # autograd refuses this on a leaf that requires grad
        ema_update(average, model, beta)

    with pytest.raises(ExerciseError, match="refused.*torch.no_grad"):
        check_ema_update(only_first_call_safe)


# ---------------------------------------------------------------- translation


def translate(x, shift_h, shift_w):
    n, _, h, w = x.shape
    out = torch.zeros_like(x)
    for i in range(n):
        dy, dx = int(shift_h[i]), int(shift_w[i])
        out[i, :, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
            i, :, max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
        ]
    return out


def test_translate_check_accepts_the_solution(capsys):
    check_translate(translate)
    assert "Correct" in capsys.readouterr().out


def test_translate_check_accepts_the_library_translation(capsys):
    check_translate(library_translate)
    assert "Correct" in capsys.readouterr().out


def rolled(x, shift_h, shift_w):
    return torch.stack(
        [
            xi.roll((int(a), int(b)), dims=(1, 2))
            for xi, a, b in zip(x, shift_h, shift_w, strict=True)
        ]
    )


def one_shift(x, shift_h, shift_w):
    n = len(x)
    return translate(x, shift_h[:1].expand(n), shift_w[:1].expand(n))


def through_numpy(x, shift_h, shift_w):
    return torch.from_numpy(translate(x, shift_h, shift_w).numpy())


def detached(x, shift_h, shift_w):
    return translate(x.detach(), shift_h, shift_w)


def in_place(x, shift_h, shift_w):
    x.copy_(translate(x, shift_h, shift_w))
    return x


def black_fill(x, shift_h, shift_w):
    inside = translate(torch.ones_like(x), shift_h, shift_w)
    return translate(x, shift_h, shift_w) + (inside - 1)


def cpu_mask(x, shift_h, shift_w):
    return translate(x, shift_h, shift_w) * torch.ones(x.shape[-1], dtype=x.dtype)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (empty, "returns nothing"),
        (rolled, "torch.roll wraps around"),
        (lambda x, h, w: x.roll((int(h[0]), int(w[0])), dims=(2, 3)), "wraps around"),
        (one_shift, "first image's shift"),
        (lambda x, h, w: translate(x, -h, -w), "wrong way"),
        (lambda x, h, w: translate(x, h, -w), "wrong way"),
        (lambda x, h, w: translate(x, w, h), "swapped"),
        (lambda x, h, w: translate(x, h, w)[:, :, :, :-1], "shape"),
        (black_fill, "-1 \\(black\\)"),
        (in_place, "changed the images it was given"),
        (through_numpy, "fails on images that require grad"),
        (detached, "no gradient for the images"),
        (lambda x, h, w: translate(x, h, w) + 0.1, "not right"),
        (cpu_mask, "would fail on a GPU"),
    ],
)
def test_translate_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_translate(answer)


def test_translate_check_names_a_replicated_border():
    def clamped(x, shift_h, shift_w):
        n, _, h, w = x.shape
        rows = (torch.arange(h)[None] - shift_h[:, None]).clamp(0, h - 1)
        cols = (torch.arange(w)[None] - shift_w[:, None]).clamp(0, w - 1)
        batch = torch.arange(n)[:, None, None]
        moved = x.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
        return moved.permute(0, 3, 1, 2)

    with pytest.raises(ExerciseError, match="repeats the edge pixels"):
        check_translate(clamped)
