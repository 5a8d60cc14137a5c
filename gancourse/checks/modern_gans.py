"""Checks for notebook 11's exercises: the zero-centred R1 penalty, one update of the
moving average of G's weights, and DiffAugment's translation with zero fill.

Each compares the student's answer with the package's own code, so there is one
truth: gancourse.losses.zero_centred_penalty, gancourse.training.ema.WeightAverage
and gancourse.augment.translate.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.augment import translate as reference_translate
from gancourse.checks.coerce import as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.inputs import random_normal, random_uniform
from gancourse.checks.probes import Recorder, call_on, check_device_safe, on_meta
from gancourse.losses import zero_centred_penalty
from gancourse.training.ema import WeightAverage

f64 = torch.float64


# ---------------------------------------------------------------- R1 penalty


class _QuadraticCritic(nn.Module):
    """D(x) = sum(w * x^2) / 2 per image, so grad_x D = w * x: other for each image.

    Records every input it is called on.
    """

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x)
        return (self.w * x * x / 2).flatten(1).sum(dim=1)  # (N,)


_NEEDS_GRAD = (
    "R1 is the gradient of D's score with respect to the *images*: make them a "
    "leaf that requires grad, x = images.detach().requires_grad_(True), score "
    "D(x), then torch.autograd.grad(scores.sum(), x, create_graph=True)."
)
_NO_GRAPH = (
    "the penalty has the right value but no gradient for D's weights, so adding it "
    "to D's loss would not train D: pass create_graph=True to torch.autograd.grad "
    "and do not .detach() the gradients or the result."
)


def _run_r1(r1_penalty, critic, images, case: str):
    """Call the student; return the penalty as a 0-dim tensor."""
    before = images.detach().clone()
    try:
        out = call_on(case, r1_penalty, critic, images)
    except ExerciseError as error:
        if "does not require grad" in str(error):
            raise ExerciseError(
                f"torch.autograd.grad was asked for a gradient with respect to "
                f"something that does not require grad. {_NEEDS_GRAD}"
            ) from None
        raise
    if not torch.equal(images.detach(), before):
        raise ExerciseError("r1_penalty changed the images it was given.")
    penalty = as_tensor(out, "the penalty r1_penalty returns", ())
    if not any(x.requires_grad for x in critic.inputs):
        raise ExerciseError(
            "D was only called on images that do not require grad, so no gradient "
            "with respect to the images was taken (a gradient for D's weights, "
            f"torch.autograd.grad(..., D.parameters()), is another thing). "
            f"{_NEEDS_GRAD}"
        )
    return penalty


def _explain_quadratic(value: float, grads: torch.Tensor) -> None:
    """Name the mistake behind a wrong penalty whose true gradients are `grads`."""
    flat = grads.flatten(1)  # (N, C*H*W)
    squares = flat.pow(2).sum(1)  # (N,) ||grad||^2 per image
    expected = squares.mean().item()
    wrong_dims = (
        "the squared norm is over the wrong dimensions: ||grad_x D(x)||^2 is one "
        "number per image, the sum of the squares of all its C*H*W entries: "
        "grads.flatten(1).pow(2).sum(1), then the mean over the batch."
    )
    mistakes = [
        Mistake(
            "the norm is not squared: R1 is E ||grad||^2, the mean of "
            "grads.flatten(1).pow(2).sum(1), not the mean of the norms.",
            flat.norm(dim=1).mean(),
        ),
        Mistake(
            "that is (||grad|| - 1)^2, WGAN-GP's penalty, which pulls the gradient "
            "norm to 1. R1 is zero-centred: it pulls the gradient at the data to 0, "
            "E ||grad||^2.",
            ((flat.norm(dim=1) - 1) ** 2).mean(),
        ),
        Mistake(
            "that is the sum over the batch (the same as the squared norm of the "
            "whole batch's gradient, grads.norm() ** 2): take the mean over the "
            "batch of each image's squared norm, so gamma means the same at any "
            "batch size.",
            squares.sum(),
        ),
        Mistake(
            "that is one norm for the whole batch, not squared: take one squared "
            "norm per image, grads.flatten(1).pow(2).sum(1), then .mean().",
            flat.norm(),
        ),
        Mistake(wrong_dims, grads.norm(dim=1).pow(2).mean()),  # channels only
        Mistake(wrong_dims, flat.pow(2).mean()),  # the mean over the entries too
        Mistake(
            "that is half the penalty: return E ||grad||^2 itself; the factor "
            "gamma / 2 belongs to D's loss, where the trainer applies it.",
            expected / 2,
        ),
    ]
    raise ExerciseError(
        first_mistake(value, mistakes, rtol=1e-6, atol=1e-9)
        or f"for D(x) = sum(w * x^2) / 2, grad_x D = w * x, and the mean over the "
        f"batch of ||w * x||^2 is {expected:.5f}; you give {value:.5f}."
    )


def check_r1_penalty(r1_penalty) -> None:
    """Check r1_penalty(D, images) -> E ||grad_x D(x)||^2, with D's graph kept."""
    # 1. D(x) = sum(w x^2) / 2: grad_x D = w * x, a different gradient per image
    w = random_uniform(3, 4, 5, seed=11).double() + 0.5  # (3, 4, 5)
    critic = _QuadraticCritic(w)
    images = random_normal(6, 3, 4, 5, seed=12).double()  # (6, 3, 4, 5)
    penalty = _run_r1(r1_penalty, critic, images, "images of shape (6, 3, 4, 5)")
    if critic.w.grad is not None:
        raise ExerciseError(
            "r1_penalty left gradients in D's .grad: use torch.autograd.grad(scores"
            ".sum(), x, create_graph=True) rather than .backward(), which adds the "
            "gradient of D's scores themselves to D's next update."
        )
    grads = w.detach() * images  # (6, 3, 4, 5), grad_x D for each image
    expected = zero_centred_penalty(critic, images).detach()
    if not close(penalty, expected, rtol=1e-6, atol=1e-9):
        _explain_quadratic(penalty.item(), grads)
    if not penalty.requires_grad:
        raise ExerciseError(_NO_GRAPH)
    # 2. a small conv D: the value and the gradient for D's weights
    torch.manual_seed(3)
    inner = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(96, 1),
        nn.Flatten(0),
    ).double()  # fmt: skip
    critic = Recorder(inner)
    images = random_normal(5, 2, 4, 6, seed=13).double()  # (5, 2, 4, 6)
    penalty = _run_r1(r1_penalty, critic, images, "images of shape (5, 2, 4, 6)")
    expected = zero_centred_penalty(inner, images)
    if not close(penalty, expected, rtol=1e-6, atol=1e-10):
        raise ExerciseError(
            f"for a small conv D the penalty is {expected.item():.6f}; you give "
            f"{penalty.item():.6f}. Differentiate D's scores with respect to the "
            "images and average each image's squared gradient norm."
        )
    if not penalty.requires_grad:
        raise ExerciseError(_NO_GRAPH)
    weights = list(inner.parameters())
    got = torch.autograd.grad(penalty, weights, allow_unused=True)
    want = torch.autograd.grad(expected, weights, allow_unused=True)
    for p, g, e in zip(weights, got, want, strict=True):
        g = torch.zeros_like(p) if g is None else g
        e = torch.zeros_like(p) if e is None else e  # the last bias: no effect
        if not close(g, e, rtol=1e-6, atol=1e-10):
            raise ExerciseError(
                "the penalty's value is right but its gradient for D's weights is "
                "not: keep the graph from D's scores to the penalty "
                "(create_graph=True) and detach nothing in between."
            )
    # 3. R2 uses the same function at G's samples: it must not reach G
    g_weight = nn.Parameter(torch.tensor(1.0, dtype=f64))  # stands in for G
    fakes = random_normal(5, 2, 4, 6, seed=14).double() * g_weight  # G's output
    penalty = _run_r1(r1_penalty, Recorder(inner), fakes, "G's samples")
    if penalty.requires_grad:
        (to_g,) = torch.autograd.grad(penalty, g_weight, allow_unused=True)
        if to_g is not None:
            raise ExerciseError(
                "the penalty carries G's graph: the images were not detached, so at "
                "G's samples (R2, the same function) D's loss.backward() would run "
                "on through G. Start from x = images.detach().requires_grad_(True)."
            )
    check_device_safe(
        r1_penalty, [on_meta(inner, f64), on_meta(images)], "r1_penalty", dtype=f64
    )
    print(
        "Correct: the gradient with respect to the images, one squared norm per "
        "image averaged over the batch, with a graph that trains D and stops at G."
    )


# ---------------------------------------------------------------- EMA update

_BETA = 0.9  # not 0.5, where beta and 1 - beta would look alike
_BETA_2 = 0.99


def _small_g(seed: int) -> nn.Module:
    """A small net with BatchNorm (buffers), weights drawn from `seed`."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)
    ).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=f64))
        bn = model[1]
        bn.running_mean.copy_(torch.randn(4, generator=gen, dtype=f64))
        bn.running_var.copy_(torch.rand(4, generator=gen, dtype=f64) + 0.5)
        bn.num_batches_tracked.fill_(seed)
    return model


def _ema_pair(average_requires_grad: bool) -> tuple[nn.Module, nn.Module]:
    """(average, model): the model has gradients in .grad, as after G's step."""
    average = _small_g(21).requires_grad_(average_requires_grad)
    model = _small_g(22)
    gen = torch.Generator().manual_seed(23)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=gen, dtype=f64)
    return average, model


def _reference_average(average: nn.Module, model: nn.Module, beta: float) -> nn.Module:
    """WeightAverage's update with `beta` (its warm-up long over)."""
    ema = WeightAverage(average, beta)
    ema.updates = 10**6  # (1 + k) / (10 + k) is above beta: beta itself is used
    ema.update(model)
    return ema.model


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _buffers(model: nn.Module) -> list[torch.Tensor]:
    return [b.detach().clone() for b in model.buffers() if b.is_floating_point()]


def _mix(a, b, weight_a: float) -> list[torch.Tensor]:
    return [weight_a * x + (1 - weight_a) * y for x, y in zip(a, b, strict=True)]


def _call_ema(ema_update, average, model, beta):
    """Call the student, with a message for in-place updates autograd refuses."""
    try:
        return call_student(ema_update, average, model, beta)
    except ExerciseError as error:
        if "leaf Variable that requires grad" in str(error):
            raise ExerciseError(
                "autograd refused to change the average's weights in place because "
                "they require grad: the average is no part of training, so update "
                "it under `with torch.no_grad():` (or use p.detach())."
            ) from None
        raise


def check_ema_update(ema_update) -> None:
    """Check ema_update(average, model, beta): a <- beta a + (1 - beta) theta."""
    average, model = _ema_pair(average_requires_grad=False)  # as WeightAverage's copy
    start, theta = _params(average), _params(model)
    start_buffers, model_buffers = _buffers(average), _buffers(model)
    grads = [p.grad.clone() for p in model.parameters()]
    right = _reference_average(average, model, _BETA)
    returned = _call_ema(ema_update, average, model, _BETA)
    if not close(_params(model), theta, rtol=0, atol=0) or not close(
        _buffers(model), model_buffers, rtol=0, atol=0
    ):
        raise ExerciseError(
            "ema_update changed the model: only the average moves toward the "
            "model's weights (average.lerp_(theta, 1 - beta), not theta.lerp_(...))."
        )
    after = _params(average)
    if not close(after, _params(right), rtol=1e-9, atol=1e-12):
        unchanged = (
            "the average did not change: `a = beta * a + (1 - beta) * p` binds the "
            "name a to a new tensor and leaves the average's weights as they were. "
            "Change them in place: a.mul_(beta).add_(p, alpha=1 - beta), "
            "a.lerp_(p, 1 - beta) or a.copy_(...), under torch.no_grad()."
        )
        if returned is not None:
            unchanged += " ema_update returns nothing: the average itself must move."
        mistakes = [
            Mistake(unchanged, start),
            Mistake(
                "beta and 1 - beta are swapped: the average keeps beta (0.9 here) of "
                "its old value and takes only 1 - beta of the model's weights: "
                "a <- beta * a + (1 - beta) * theta.",
                _mix(start, theta, 1 - _BETA),
            ),
            Mistake(
                "the average became a copy of the model: it should keep beta of "
                "its old value, a <- beta * a + (1 - beta) * theta.",
                theta,
            ),
            Mistake(
                "you averaged the gradients (p.grad): the moving average is of the "
                "weights themselves, p.",
                _mix(start, grads, _BETA),
            ),
            Mistake(
                "use the beta you are given (0.9 here), not a fixed 0.999.",
                _mix(start, theta, 0.999),
            ),
        ]
        raise ExerciseError(
            first_mistake(after, mistakes, rtol=1e-9, atol=1e-12)
            or "the average's weights after your update are not beta * a + "
            "(1 - beta) * theta for each parameter a of the average and theta of "
            "the model."
        )
    if any(p.requires_grad or p.grad_fn is not None for p in average.parameters()):
        raise ExerciseError(
            "the values are right, but the average's weights now require grad: the "
            "update was recorded by autograd, so the average is tied to G's graph "
            "and G's next backward could reach it. Update under `with "
            "torch.no_grad():` (or use p.detach())."
        )
    buffers = _buffers(average)
    if not close(buffers, model_buffers, rtol=1e-9, atol=1e-12):
        if close(buffers, start_buffers, rtol=1e-9, atol=1e-12):
            raise ExerciseError(
                "the weights are right but the buffers were left as they were: copy "
                "the model's buffers (BatchNorm's running mean and variance) into "
                "the average, as WeightAverage does, for zip(average.buffers(), "
                "model.buffers()): b_avg.copy_(b). Otherwise the averaged G samples "
                "in eval mode with its first statistics."
            )
        raise ExerciseError(
            "the buffers (BatchNorm's running mean and variance) are copied from "
            "the model, not averaged: they are statistics of G's current layers, "
            "not weights. b_avg.copy_(b) for each pair of buffers."
        )
    # an average whose weights require grad (a plain copy.deepcopy(G)), another beta
    average, model = _ema_pair(average_requires_grad=True)
    right = _reference_average(average, model, _BETA_2)
    _call_ema(ema_update, average, model, _BETA_2)
    if not close(_params(average), _params(right), rtol=1e-9, atol=1e-12):
        raise ExerciseError(
            f"right for beta = {_BETA} but not for beta = {_BETA_2}: use the beta "
            "argument, with nothing fixed in the code."
        )
    average, model = _ema_pair(average_requires_grad=False)
    check_device_safe(
        ema_update, [on_meta(average, f64), on_meta(model, f64), _BETA], "ema_update"
    )
    print(
        "Correct: each weight of the average moved a step 1 - beta toward G's, in "
        "place and outside autograd; the buffers copied."
    )


# ---------------------------------------------------------------- translation


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """4 images 5 high and 7 wide, no pixel 0, and one (down, right) shift each."""
    x = random_uniform(4, 2, 5, 7, seed=31).double() + 0.5  # (4, 2, 5, 7)
    shift_h = torch.tensor([1, -2, 0, 2])  # rows: positive moves content down
    shift_w = torch.tensor([-3, 2, 1, 0])  # columns: positive moves content right
    return x, shift_h, shift_w


def _rolled(x, shift_h, shift_w) -> torch.Tensor:
    """torch.roll per image: what leaves one side comes back on the other."""
    return torch.stack(
        [
            xi.roll((int(h), int(w)), dims=(1, 2))
            for xi, h, w in zip(x, shift_h, shift_w, strict=True)
        ]
    )


def _clamped(x, shift_h, shift_w) -> torch.Tensor:
    """The shifted images with the uncovered border repeating the edge pixels."""
    n, _, h, w = x.shape
    rows = (torch.arange(h)[None, :] - shift_h[:, None]).clamp(0, h - 1)  # (N, H)
    cols = (torch.arange(w)[None, :] - shift_w[:, None]).clamp(0, w - 1)  # (N, W)
    batch = torch.arange(n)[:, None, None]
    return x.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(
        0, 3, 1, 2
    )


_CONVENTION = (
    "image i moves down by shift_h[i] rows and right by shift_w[i] columns: the "
    "pixel at (r, c) goes to (r + shift_h[i], c + shift_w[i])."
)


def check_translate(translate) -> None:
    """Check translate(x, shift_h, shift_w): each image shifted, zero fill, in torch."""
    x, shift_h, shift_w = _batch()
    before = x.clone()
    out = call_student(translate, x, shift_h.clone(), shift_w.clone())
    if not torch.equal(x, before):
        raise ExerciseError(
            "translate changed the images it was given: build a new tensor "
            "(e.g. torch.zeros_like(x)) and fill it."
        )
    out = as_tensor(out, "the images translate returns", x.shape, like="x")
    expected = reference_translate(x, shift_h, shift_w)
    if not close(out, expected, rtol=0, atol=1e-12):
        first = shift_h[:1].expand(len(x)), shift_w[:1].expand(len(x))
        wrap = (
            "pixels that leave one side come back on the other (torch.roll wraps "
            "around): DiffAugment's translation fills the uncovered border with "
            "zeros, so D never sees a digit cut in two and glued back."
        )
        wrong_way = f"the shift goes the wrong way: {_CONVENTION}"
        mistakes = [
            Mistake(wrap, _rolled(x, shift_h, shift_w)),
            Mistake(wrap, _rolled(x, *first)),
            Mistake(
                "every image is shifted by the first image's shift: each image has "
                "its own, shift_h[i] and shift_w[i].",
                reference_translate(x, *first),
            ),
            Mistake(wrong_way, reference_translate(x, -shift_h, -shift_w)),
            Mistake(wrong_way, reference_translate(x, -shift_h, shift_w)),
            Mistake(wrong_way, reference_translate(x, shift_h, -shift_w)),
            Mistake(
                "shift_h and shift_w are swapped: shift_h moves along the height "
                "(rows, dim 2) and shift_w along the width (columns, dim 3).",
                reference_translate(x, shift_w, shift_h),
            ),
            Mistake(
                "the uncovered border repeats the edge pixels: fill it with zeros "
                "(mid-grey for images in [-1, 1], what DiffAugment does).",
                _clamped(x, shift_h, shift_w),
            ),
            Mistake(
                "the uncovered border is -1 (black): fill it with zeros, mid-grey "
                "for images in [-1, 1], as DiffAugment does.",
                torch.where(
                    reference_translate(torch.ones_like(x), shift_h, shift_w) > 0,
                    expected,
                    -1.0,
                ),
            ),
        ]
        raise ExerciseError(
            first_mistake(out, mistakes, rtol=0, atol=1e-12)
            or f"the shifted images are not right. The convention: {_CONVENTION} "
            "Pixels that move out are dropped; uncovered ones are 0."
        )
    # differentiable: G's gradient must flow back through the translation
    x = x.clone().requires_grad_(True)
    try:
        out = call_on("images that require grad", translate, x, shift_h, shift_w)
    except ExerciseError as error:
        if "requires grad" in str(error) or "numpy" in str(error).lower():
            raise ExerciseError(
                "translate fails on images that require grad: it must stay in torch "
                "(no .numpy(), .tolist() or torch.tensor(values)), so that G's "
                "gradient flows back through it."
            ) from None
        raise
    out = as_tensor(out, "the images translate returns", x.shape, like="x")
    if not out.requires_grad:
        raise ExerciseError(
            "the result has no gradient for the images: DiffAugment augments G's "
            "samples in G's own update too, so G's gradient must flow back through "
            "translate. Stay in torch: no .detach(), .numpy() or torch.tensor(...) "
            "of the values."
        )
    weights = random_normal(*x.shape, seed=32).double()
    (got,) = torch.autograd.grad((out * weights).sum(), x, allow_unused=True)
    x_ref = x.detach().requires_grad_(True)
    ref = reference_translate(x_ref, shift_h, shift_w)
    (want,) = torch.autograd.grad((ref * weights).sum(), x_ref)
    if got is None or not close(got, want, rtol=1e-9, atol=1e-12):
        raise ExerciseError(
            "the values are right but the gradient for the images is not: each "
            "output pixel should be a copy of one input pixel (or a constant 0), "
            "with nothing detached."
        )
    x, shift_h, shift_w = _batch()
    check_device_safe(
        translate, [on_meta(x), on_meta(shift_h), on_meta(shift_w)], "translate",
        dtype=f64,
    )  # fmt: skip
    print(
        f"Correct: {_CONVENTION} The uncovered border is 0, and gradients flow "
        "back to the images."
    )
