"""Checks for notebook 07's exercises: G's Wasserstein loss, the clipped critic
step of WGAN and the gradient penalty of WGAN-GP."""

from __future__ import annotations

import copy

import torch
from torch import nn

from gancourse.checks.coerce import as_float, as_tensor
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.probes import (
    NEW_TENSORS,
    Recorder,
    call_on,
    check_device_safe,
    gradients_reaching,
    on_meta,
)
from gancourse.checks.reference import bce_with_logits

f64 = torch.float64


# ---------------------------------------------------------------- G's loss


def check_generator_loss(generator_loss) -> None:
    """Check generator_loss(fake_scores) -> -mean(fake_scores), as a tensor."""
    scores = torch.tensor([-3.0, -0.5, 0.2, 2.0, 5.0], dtype=f64, requires_grad=True)
    out = call_student(generator_loss, scores)
    loss = as_tensor(out, "the loss generator_loss returns", ())
    expected = -scores.detach().mean()
    if loss.is_floating_point() and loss.dtype != scores.dtype:
        raise ExerciseError(
            f"the loss is {str(loss.dtype).removeprefix('torch.')} for "
            f"{str(scores.dtype).removeprefix('torch.')} scores: a tensor made "
            f"without dtype= set its precision. {NEW_TENSORS}"
        )
    no_sigmoid = (
        "no sigmoid, no log, no BCE: the critic's score is not a probability. "
        "G's Wasserstein loss is simply -mean(fake_scores)."
    )
    mistakes = [
        Mistake(
            "the sign is flipped: G wants the critic to score its samples high, so "
            "it minimises -mean(f(G(z))). Minimising +mean would make them look "
            "faker.",
            -expected,
        ),
        Mistake(no_sigmoid, bce_with_logits(scores, 1.0)),
        Mistake(no_sigmoid, -torch.sigmoid(scores).mean()),
        Mistake("average over the batch (.mean()), not a sum.", expected * len(scores)),
    ]
    if not close(loss, expected, rtol=1e-9, atol=1e-12):
        raise ExerciseError(
            first_mistake(loss, mistakes)
            or f"for scores {scores.detach().tolist()} G's loss is "
            f"{expected.item():.3f}, you give {loss.item():.3f}."
        )
    if not loss.requires_grad:
        raise ExerciseError(
            "the loss is right but detached from the scores (no gradient): "
            "G could not learn from it. Avoid .item(), .detach() and numpy here."
        )
    (grad,) = torch.autograd.grad(loss, scores)
    if not close(grad, -1 / len(scores)):
        raise ExerciseError("the gradient wrt each score should be -1 / batch size.")
    three = torch.tensor([1.0, -2.0, 4.0], dtype=f64)  # another batch size
    out = call_on("a batch of 3 scores", generator_loss, three)
    if not close(as_tensor(out, "the loss generator_loss returns", ()), -1.0):
        raise ExerciseError(
            "right for 5 scores but not for the 3 scores [1, -2, 4], whose loss is "
            "-1: average over the batch you are given, -fake_scores.mean(), with no "
            "fixed batch size."
        )
    check_device_safe(
        generator_loss, [on_meta(scores)], "generator_loss", dtype=scores.dtype
    )
    print("Correct: G minimises -mean(f(G(z))), pushing its samples' scores up.")


# ---------------------------------------------------------------- WGAN critic step

_CLIP = 0.1  # not 0.01, so a clip hard-coded from the paper shows
_LR = 0.05
_JUNK_GRAD = 0.3  # left in .grad before the call: a missing zero_grad shows


def _critic_and_data() -> tuple[nn.Module, torch.Tensor, torch.Tensor, nn.Parameter]:
    """A small critic (some weights beyond the clip), real points and G's fakes."""
    gen = torch.Generator().manual_seed(7)
    critic = nn.Sequential(
        nn.Linear(2, 6), nn.Tanh(), nn.Linear(6, 1), nn.Flatten(0)
    ).double()
    with torch.no_grad():
        for p in critic.parameters():  # uniform in [-0.15, 0.15]: a third clips
            p.copy_((torch.rand(p.shape, generator=gen, dtype=f64) * 2 - 1) * 0.15)
            p.grad = torch.full_like(p, _JUNK_GRAD)
    real = torch.randn(16, 2, generator=gen, dtype=f64) + 1.0  # (16, 2)
    g_weight = nn.Parameter(torch.tensor(0.8, dtype=f64))  # stands in for G
    fake = torch.randn(16, 2, generator=gen, dtype=f64) * g_weight  # (16, 2)
    return critic, real, fake, g_weight


def _wasserstein(real_scores, fake_scores):
    return fake_scores.mean() - real_scores.mean()


def _flipped(real_scores, fake_scores):
    return real_scores.mean() - fake_scores.mean()


def _gan_loss(real_scores, fake_scores):
    return bce_with_logits(real_scores, 1.0) + bce_with_logits(fake_scores, 0.0)


def _sigmoid_wasserstein(real_scores, fake_scores):
    return torch.sigmoid(fake_scores).mean() - torch.sigmoid(real_scores).mean()


def _weights_after(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    loss_of=_wasserstein,
    clip: float | None = _CLIP,
    clip_first: bool = False,
    step: bool = True,
    zero_grad: bool = True,
) -> list[torch.Tensor]:
    """The critic's parameters after one update done a given (right or wrong) way."""
    model = copy.deepcopy(critic)  # deepcopy leaves .grad behind: copy it too
    for copied, original in zip(model.parameters(), critic.parameters(), strict=True):
        copied.grad = None if original.grad is None else original.grad.clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=_LR)
    with torch.no_grad():
        if clip_first:
            for p in model.parameters():
                p.clamp_(-clip, clip)
    if zero_grad:
        optimizer.zero_grad()
    loss_of(model(real), model(fake.detach())).backward()
    if step:
        optimizer.step()
    with torch.no_grad():
        if clip is not None and not clip_first:
            for p in model.parameters():
                p.clamp_(-clip, clip)
    return [p.detach() for p in model.parameters()]


def check_critic_step(critic_step) -> None:
    """Check critic_step(critic, optimizer, real, fake, clip): one WGAN update."""
    critic, real, fake, g_weight = _critic_and_data()
    start, _, _, _ = _critic_and_data()  # the same critic, untouched
    real_before, fake_before = real.clone(), fake.detach().clone()
    with torch.no_grad():
        expected_loss = _wasserstein(start(real), start(fake))
    optimizer = torch.optim.SGD(critic.parameters(), lr=_LR)
    with gradients_reaching([g_weight]) as reached_g:  # however .grad looks after
        returned = call_student(critic_step, critic, optimizer, real, fake, _CLIP)
    if not torch.equal(real, real_before) or not torch.equal(
        fake.detach(), fake_before
    ):
        raise ExerciseError("critic_step changed the real or fake batch it was given.")
    after = [p.detach() for p in critic.parameters()]
    right = _weights_after(start, real, fake)
    largest = max(p.abs().max().item() for p in after)
    no_sigmoid = (
        "a WGAN critic has no sigmoid and no BCE: its scores are raw numbers and "
        "its loss is mean f(fake) - mean f(real)."
    )
    mistakes = [
        Mistake(
            "you clip before optimizer.step(): the step then pushes weights out of "
            f"[-clip, clip] again (up to {largest:.3f} here, clip {_CLIP}). Clip "
            "right after the step.",
            _weights_after(start, real, fake, clip_first=True),
        ),
        Mistake(
            f"the weights are not clipped (one is {largest:.3f}, clip {_CLIP}): "
            "after optimizer.step(), clamp every parameter to [-clip, clip].",
            _weights_after(start, real, fake, clip=None),
        ),
        Mistake(
            "the sign is flipped: the critic maximises mean f(real) - mean f(fake), "
            "so it minimises mean f(fake) - mean f(real). (If you thought in "
            "labels, real +1 and fake -1 as targets: the critic has no labels, only "
            "this score difference.)",
            _weights_after(start, real, fake, _flipped),
        ),
        Mistake(no_sigmoid, _weights_after(start, real, fake, _gan_loss)),
        Mistake(no_sigmoid, _weights_after(start, real, fake, _sigmoid_wasserstein)),
        Mistake(
            "the weights did not move (only clipped): call optimizer.step() after "
            "loss.backward().",
            _weights_after(start, real, fake, step=False),
        ),
        Mistake(
            "old gradients were left in .grad and added to this step's: call "
            "optimizer.zero_grad() before loss.backward().",
            _weights_after(start, real, fake, zero_grad=False),
        ),
    ]
    if not close(after, right, rtol=0, atol=1e-9):
        if message := first_mistake(after, mistakes, rtol=0, atol=1e-9):
            raise ExerciseError(message)
        if largest <= _CLIP / 2:
            raise ExerciseError(
                f"every weight is within {largest:.3f}, but the clip asked for was "
                f"{_CLIP}: clamp to the `clip` argument, not a fixed number."
            )
        if largest > _CLIP + 1e-9:
            raise ExerciseError(
                f"a weight is {largest:.3f} after your update, outside [-clip, clip] "
                f"= [-{_CLIP}, {_CLIP}]: clip every parameter after the step."
            )
        raise ExerciseError(
            "the critic's weights after your update are not those of one "
            "optimizer step on mean f(fake) - mean f(real) followed by clipping."
        )
    if reached_g or (g_weight.grad is not None and g_weight.grad.abs().sum() > 0):
        raise ExerciseError(
            "critic_step backpropagated into the generator: score critic(fake."
            "detach()), so that the critic's loss.backward() stops at the fakes and "
            "never runs through G."
        )
    loss = as_float(returned, "the loss critic_step returns")
    sign = Mistake(
        "the update is right but the returned loss has the wrong sign: return "
        "mean f(fake) - mean f(real), the loss the critic minimises.",
        -expected_loss,
    )
    if not close(loss, expected_loss, rtol=1e-6, atol=1e-9):
        raise ExerciseError(
            first_mistake(loss, [sign])
            or f"return the critic's loss before the step, {expected_loss.item():.5f} "
            f"here; you return {loss:.5f}."
        )
    model, real, fake, _ = (on_meta(x, f64) for x in _critic_and_data())
    optimizer = torch.optim.SGD(model.parameters(), lr=_LR)
    check_device_safe(critic_step, [model, optimizer, real, fake, _CLIP], "critic_step")
    print(
        "Correct: one step on mean f(fake) - mean f(real), then every weight "
        "clipped to [-clip, clip]."
    )


# ---------------------------------------------------------------- gradient penalty


class _LinearCritic(nn.Module):
    """f(x) = sum(w * x) per sample, so grad f = w everywhere; records its inputs."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.w = nn.Parameter(w)
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x)
        return (x * self.w).flatten(1).sum(dim=1)  # (N,)


def _pair(shape: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A real and a fake batch with real - fake > 0 everywhere."""
    gen = torch.Generator().manual_seed(seed)
    real = torch.rand(shape, generator=gen, dtype=f64) * 2 - 1
    fake = real - 0.5 - torch.rand(shape, generator=gen, dtype=f64)
    return real, fake


_ANY_SHAPE = (
    "The penalty must work for images (N, C, H, W) of any height and width and for "
    "points (N, 2): take eps of shape (N,) + (1,) * (real.ndim - 1) and one norm "
    "per sample over grads.flatten(1), with no sizes written in."
)


def _run_penalty(gradient_penalty, critic, real, fake):
    """Call the student; return (penalty, the interpolates the critic saw)."""
    real_before, fake_before = real.clone(), fake.clone()
    case = f"a batch of shape {tuple(real.shape)}"
    out = call_on(case, gradient_penalty, critic, real, fake, hint=_ANY_SHAPE)
    if not torch.equal(real, real_before) or not torch.equal(fake, fake_before):
        raise ExerciseError("gradient_penalty changed the real or fake batch.")
    penalty = as_tensor(out, "the penalty gradient_penalty returns", ())
    seen = [x for x in critic.inputs if x.requires_grad]
    if not seen:
        raise ExerciseError(
            "the critic was never called on the interpolates x_hat: make x_hat "
            "with .requires_grad_(True), score critic(x_hat), and differentiate "
            "the scores with respect to x_hat."
        )
    x_hat = seen[-1].detach()
    if x_hat.shape != real.shape:
        raise ExerciseError(
            f"x_hat has shape {tuple(x_hat.shape)}, not the batch's shape "
            f"{tuple(real.shape)}: eps must broadcast over every non-batch "
            "dimension, e.g. torch.rand((N,) + (1,) * (real.ndim - 1)), "
            "(N, 1, 1, 1) for images and (N, 1) for 2D points."
        )
    return penalty, x_hat


def _check_interpolates(x_hat, real, fake) -> None:
    """x_hat must lie on each real-fake segment at one random weight per sample."""
    ratio = ((x_hat - fake) / (real - fake)).flatten(1)  # (N, D): eps at each entry
    if close(ratio, 1.0) or close(ratio, 0.0):
        raise ExerciseError(
            "the critic is differentiated at the real (or fake) samples "
            "themselves: take x_hat = eps * real + (1 - eps) * fake, random points "
            "between them."
        )
    spread = (ratio.amax(1) - ratio.amin(1)).max()
    if spread > 1e-9:
        raise ExerciseError(
            "x_hat uses a different interpolation weight at each pixel (eps shaped "
            "like the images, e.g. torch.rand_like(real)): then x_hat is not on the "
            "line from fake to real. Draw one eps per sample, shape (N, 1, 1, 1)."
        )
    eps = ratio[:, 0]
    if torch.any(eps < -1e-12) or torch.any(eps > 1 + 1e-12):
        raise ExerciseError(
            "eps must lie in [0, 1] (torch.rand), so x_hat is between real and fake."
        )
    if torch.pdist(eps[:, None]).min() < 1e-9:
        raise ExerciseError(
            "every sample uses the same interpolation weight: draw a new eps for "
            "each sample, shape (N, 1, 1, 1), not one number for the batch."
        )


def _reference(critic: nn.Module, x_hat: torch.Tensor) -> torch.Tensor:
    """(||grad f(x_hat)|| - 1)^2 averaged over the batch, with the graph kept."""
    x_hat = x_hat.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


def _explain_linear(value: float, w: torch.Tensor, n: int) -> None:
    """Name the mistake behind a wrong penalty for a linear critic with weights w."""
    norm = w.norm().item()
    expected = (norm - 1) ** 2

    wrong_dims = (
        "the norm is taken over the wrong dimensions (e.g. dim=1, the channels "
        "only): ||grad f(x_hat)|| is one number per sample, over every "
        "non-batch dimension: grads.flatten(1).norm(dim=1)."
    )
    squared = (
        "you penalise the squared norm: the penalty is (||grad|| - 1)^2, which "
        "pulls the gradient norm to 1 (the Lipschitz bound), not to 0."
    )
    not_squared = "square the difference: (||grad|| - 1) ** 2."
    mistakes = []
    if w.ndim > 1:
        mistakes += [
            Mistake(wrong_dims, ((w.norm(dim=0) - 1) ** 2).mean()),  # dim=1 of grads
            Mistake(wrong_dims, ((w.flatten(1).norm(dim=1) - 1) ** 2).mean()),
        ]
    mistakes += [
        Mistake(
            "that is one norm for the whole batch: take one norm per sample, "
            "grads.flatten(1).norm(dim=1), then average (norm - 1)^2.",
            (n**0.5 * norm - 1) ** 2,
        ),
        Mistake(squared, norm**2),
        Mistake(squared, (norm**2 - 1) ** 2),
        Mistake(not_squared, abs(norm - 1)),
        Mistake(not_squared, norm - 1),
        Mistake("average over the batch (.mean()), not a sum.", expected * n),
    ]
    if norm < 1:
        mistakes.append(
            Mistake(
                "the penalty is two-sided: (||grad|| - 1)^2 also when the norm is "
                "below 1 (max(0, ...) is a different, one-sided penalty).",
                0.0,
            )
        )
    raise ExerciseError(
        first_mistake(value, mistakes, rtol=1e-6, atol=1e-9)
        or f"for a linear critic f(x) = sum(w * x), grad f = w everywhere and "
        f"||w|| = {norm:.4f}, so the penalty is ({norm:.4f} - 1)^2 = "
        f"{expected:.4f}; you give {value:.4f}."
    )


def check_gradient_penalty(gradient_penalty) -> None:
    """Check gradient_penalty(critic, real, fake) -> E[(||grad f(x_hat)|| - 1)^2]."""
    # 1. images 4 high and 5 wide and a linear critic: grad f = w, ||w|| = sqrt(60) s
    for scale in (0.5, 0.1):  # ||w|| above 1 (3.87), then below 1 (0.77)
        critic = _LinearCritic(torch.full((3, 4, 5), scale, dtype=f64))
        real, fake = _pair((6, 3, 4, 5), seed=1)
        penalty, x_hat = _run_penalty(gradient_penalty, critic, real, fake)
        _check_interpolates(x_hat, real, fake)
        if critic.w.grad is not None:
            raise ExerciseError(
                "gradient_penalty left gradients in the critic's .grad: use "
                "torch.autograd.grad(scores.sum(), x_hat, create_graph=True) rather "
                "than .backward(), which would add the gradient of f(x_hat) itself "
                "to the critic's update."
            )
        expected = (critic.w.norm().item() - 1) ** 2
        if not close(penalty, expected, rtol=1e-6, atol=1e-9):
            _explain_linear(penalty.item(), critic.w.detach(), len(real))
        if not penalty.requires_grad:
            raise ExerciseError(
                "the penalty has the right value but no gradient for the critic's "
                "weights, so it cannot train the critic: pass create_graph=True to "
                "torch.autograd.grad."
            )
    # 2. a non-linear critic: the value and the gradient for its weights
    torch.manual_seed(3)
    inner = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(64, 1),
        nn.Flatten(0),
    ).double()
    critic = Recorder(inner)
    real, fake = _pair((5, 3, 4, 4), seed=2)
    g_weight = nn.Parameter(torch.tensor(1.0, dtype=f64))  # stands in for G
    fake = fake * g_weight  # G's output: it still carries G's graph
    penalty, x_hat = _run_penalty(gradient_penalty, critic, real, fake)
    expected = _reference(inner, x_hat)
    if not close(penalty, expected, rtol=1e-6, atol=1e-10):
        raise ExerciseError(
            f"for a small conv critic the penalty at your x_hat is "
            f"{expected.item():.5f}; you give {penalty.item():.5f}. Differentiate "
            "the scores with respect to x_hat and average (||grad|| - 1)^2."
        )
    if penalty.requires_grad:
        (to_g,) = torch.autograd.grad(
            penalty, g_weight, retain_graph=True, allow_unused=True
        )
        if to_g is not None:
            raise ExerciseError(
                "the penalty still carries G's graph: x_hat was made from `fake` "
                "without .detach(), so the critic's loss.backward() would also run "
                "through G and leave gradients in its weights. Build x_hat from "
                "fake.detach()."
            )
    weights = list(inner.parameters())
    if not penalty.requires_grad:
        raise ExerciseError(
            "the penalty has no gradient for the critic's weights: pass "
            "create_graph=True to torch.autograd.grad."
        )
    got = torch.autograd.grad(penalty, weights, allow_unused=True)
    want = torch.autograd.grad(expected, weights, allow_unused=True)
    for p, g, w in zip(weights, got, want, strict=True):
        g = torch.zeros_like(p) if g is None else g
        w = torch.zeros_like(p) if w is None else w  # the last bias: no effect
        if not close(g, w, rtol=1e-6, atol=1e-10):
            raise ExerciseError(
                "the penalty's value is right but its gradient for the critic's "
                "weights is not: keep the graph (create_graph=True) and do not "
                "detach anything between the critic and the norm."
            )
    # 3. 2D points, as on the ring: eps must be (N, 1) here
    critic = _LinearCritic(torch.tensor([3.0, 4.0], dtype=f64))  # ||w|| = 5
    real, fake = _pair((8, 2), seed=3)
    penalty, x_hat = _run_penalty(gradient_penalty, critic, real, fake)
    _check_interpolates(x_hat, real, fake)
    if not close(penalty, 16.0, rtol=1e-6):
        _explain_linear(penalty.item(), critic.w.detach(), len(real))
    real, fake = _pair((5, 3, 4, 4), seed=4)
    check_device_safe(
        gradient_penalty,
        [on_meta(inner, f64), on_meta(real), on_meta(fake)],
        "gradient_penalty",
        dtype=f64,
    )
    print(
        "Correct: one eps per sample, the gradient norm over all non-batch "
        "dimensions, (norm - 1)^2 averaged, and a graph that trains the critic."
    )
