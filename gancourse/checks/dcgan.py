"""Checks for notebook 05's exercises: one update of D and one update of G in PyTorch.

Each check builds a tiny DCGAN from gancourse.models, runs the student's step
and a reference step on identical copies, and compares the loss, which weights
moved and how. A second case uses a very confident D (logits near +-200), where
sigmoid followed by log or BCELoss breaks down and BCE with logits does not.
"""

from __future__ import annotations

import copy
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks.coerce import as_float
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.probes import check_device_safe, gradients_reaching, on_meta
from gancourse.checks.reference import bce_with_logits
from gancourse.models import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
)

BATCH = 8
Z_DIM = 8
LR = 0.1  # plain SGD in the checks: a weight's change is lr times its gradient
CONFIDENT = 200.0  # a logit so large that sigmoid rounds to exactly 0 or 1
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}  # a loss computed in float32


class _Says(NamedTuple):
    """What to tell the student about one step, D's or G's, beyond its mistakes."""

    loss: str  # what the right loss is
    wrong_way: str  # the update moved against the right one
    stale: str  # the loss is right but the update is not
    confident: str  # the second case: D is very sure
    log_of_zero: str  # the log that underflows in that case
    no_gradient: str  # what a clipped BCELoss costs in that case


_D_SAYS = _Says(
    loss="BCE(D(real), 1) + BCE(D(fake.detach()), 0), each a mean over its batch, "
    "with F.binary_cross_entropy_with_logits",
    wrong_way="D's update goes the wrong way: are the labels swapped? Real images "
    "have target 1 and generated ones target 0: "
    "BCE(D(real), ones) + BCE(D(fake.detach()), zeros).",
    stale="D still held gradients from an earlier backward (the G step leaves some), "
    "and loss.backward() adds to them. Call opt_d.zero_grad() before "
    "loss.backward(), and opt_d.step() once.",
    confident=f"when D is very sure (logits near {CONFIDENT:.0f})",
    log_of_zero="log(1 - sigmoid(200))",
    no_gradient="sigmoid rounds to exactly 1 and BCELoss clips the log, so D gets no "
    "gradient from its worst mistakes.",
)
_G_SAYS = _Says(
    loss="-log D(G(z)) averaged over the batch: "
    "F.binary_cross_entropy_with_logits(D(G(z)), ones)",
    wrong_way="G's update goes the wrong way: G minimises BCE(D(G(z)), ones), the "
    "loss that is low when D calls its images real.",
    stale="G still held gradients from an earlier backward and loss.backward() adds "
    "to them. Call opt_g.zero_grad() before loss.backward(), and opt_g.step() once.",
    confident=f"when D rejects the fakes with certainty (logits near -{CONFIDENT:.0f})",
    log_of_zero="log(sigmoid(-200))",
    no_gradient="sigmoid rounds to exactly 0 and BCELoss clips the log, so G gets no "
    "gradient just when it needs one most.",
)


_MEAN_NOTE = (
    "Note: your loss is the mean of the real and the fake term, (BCE(D(real), 1) + "
    "BCE(D(fake), 0)) / 2, where the course adds them. That is a valid convention "
    "(pix2pix uses it): it halves D's gradients, as halving its learning rate "
    "would, and with Adam it changes almost nothing. The course, like the DCGAN of "
    "pytorch/examples, adds the two terms, so its loss curves read twice as high."
)


def _tiny_gan(seed: int = 0) -> tuple:
    """(G, D, real images, noise, other images): a small 28 px DCGAN and its data."""
    with torch.random.fork_rng(devices=[]):  # leave the notebook's RNG alone
        torch.manual_seed(seed)
        G = Generator(GeneratorConfig(image_size=28, channels=1, z_dim=Z_DIM, width=4))
        D = Discriminator(DiscriminatorConfig(image_size=28, channels=1, width=4))
        real = torch.rand(BATCH, 1, 28, 28) * 2 - 1  # (8, 1, 28, 28) in [-1, 1]
        z = torch.randn(BATCH, Z_DIM)  # (8, 8)
        other = torch.rand(BATCH, 1, 28, 28) * 2 - 1
    return G, D, real, z, other


def _weights(model: nn.Module) -> torch.Tensor:
    """All of a model's parameters as one flat vector (a copy)."""
    return torch.cat([p.detach().flatten() for p in model.parameters()]).clone()


def _has_gradients(model: nn.Module) -> bool:
    """Whether any parameter of `model` holds a nonzero gradient."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return any(grad.abs().sum() > 0 for grad in grads)


def _largest(change: torch.Tensor) -> float:
    """The largest weight change (+ a tiny bit): float rounding is relative to it."""
    return change.abs().max().item() + 1e-6


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """The cosine of the angle between two weight changes."""
    return F.cosine_similarity(a, b, dim=0).item()


def _student_loss(function, name: str, *args) -> float:
    """Call the student's step and return its loss; name BCELoss fed with logits."""
    try:
        loss = call_student(function, *args)
    except ExerciseError as error:
        if "between 0 and 1" in str(error):
            raise ExerciseError(
                f"{name} gave D's raw outputs to BCELoss, which expects "
                "probabilities between 0 and 1. Our D returns logits (no sigmoid): "
                "use F.binary_cross_entropy_with_logits(logits, targets)."
            ) from None
        raise
    return as_float(loss, f"the loss {name} returns", finite=False)


def _check_update(name, loss, want, moved, want_move, mistakes, says) -> None:
    """The loss against the mistakes and the right loss, then the weight change."""
    if message := first_mistake(loss, mistakes, expected=want, **TOLERANCE):
        raise ExerciseError(message)
    if not close(loss, want, **TOLERANCE):
        if _cosine(moved, want_move) < 0:
            raise ExerciseError(says.wrong_way)
        raise ExerciseError(
            f"for this batch the loss should be {want:.4f}, {name} returns "
            f"{loss:.4f}. It is {says.loss}."
        )
    if not close(moved, want_move, rtol=0, atol=1e-3 * _largest(want_move)):
        if _cosine(moved, want_move) < -0.5:
            raise ExerciseError(says.wrong_way)
        raise ExerciseError(f"the loss is right but the update is not: {says.stale}")


def _check_confident(name: str, loss: float, want: float, says: _Says) -> None:
    """The loss when D is very sure: finite, and exact as only BCE with logits is."""
    if not math.isfinite(loss):
        raise ExerciseError(
            f"{says.confident} {name} returns a loss of {loss}: {says.log_of_zero} "
            "is log(0) in float32. Use F.binary_cross_entropy_with_logits on the raw "
            "logits, which stays finite."
        )
    if not close(loss, want, **TOLERANCE):
        raise ExerciseError(
            f"{says.confident} {name} returns {loss:.1f} instead of {want:.1f}: "
            f"{says.no_gradient} Use F.binary_cross_entropy_with_logits on the raw "
            "logits."
        )


def _reference_d_step(G, D, real, z) -> tuple[float, torch.Tensor]:
    """The right D step on copies: (loss, change of D's weights)."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    before = _weights(D)
    fake = G(z)  # (N, 1, 28, 28)
    loss = bce_with_logits(D(real), 1.0) + bce_with_logits(D(fake.detach()), 0.0)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item(), _weights(D) - before


def _leave_old_gradients(model: nn.Module, images: torch.Tensor) -> None:
    """Fill the model's .grad as an earlier step would (the next step must zero it)."""
    model(images).float().square().mean().backward()


def _confident(D: Discriminator, logit: float) -> Discriminator:
    """A copy of D whose every output is about `logit` (very sure of itself)."""
    D = copy.deepcopy(D)
    with torch.no_grad():
        D.real_fake[0].bias.fill_(logit)
    return D


def check_d_step(d_step) -> None:
    """Check d_step(G, D, opt_d, real, z): one BCE-with-logits update of D only."""
    name = "d_step"
    G, D, real, z, other = _tiny_gan()
    want_loss, want_move = _reference_d_step(G, D, real, z)
    with torch.no_grad():  # the candidate mistakes, on copies
        G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
        fake = G0(z)
        real_logits, fake_logits = D0(real), D0(fake)  # (8,), (8,)
        both = D0(torch.cat([real, fake]))  # (16,): one BatchNorm batch for both
        one_term = (
            "the loss has only one of its two terms: D's loss is "
            "BCE(D(real), 1) + BCE(D(fake.detach()), 0)."
        )
        flipped = (
            "the sign is flipped: D minimises the BCE, -[log D(x) + log(1 - "
            "D(G(z)))], which is the same as maximising log D(x) + log(1 - "
            "D(G(z)))."
        )
        mistakes = [
            Mistake(flipped, -want_loss),
            Mistake(flipped, -want_loss / 2),  # of the mean of the two terms
            Mistake(
                "you applied a sigmoid before F.binary_cross_entropy_with_logits: it "
                "takes D's raw logits and applies the sigmoid itself, stably. Pass "
                "the logits straight in.",
                bce_with_logits(real_logits.sigmoid(), 1)
                + bce_with_logits(fake_logits.sigmoid(), 0),
            ),
            Mistake(one_term, bce_with_logits(real_logits, 1)),
            Mistake(one_term, bce_with_logits(fake_logits, 0)),
            Mistake(
                "you scored real and fake images in one call of D: BatchNorm then "
                "normalises them with shared statistics. Call D on the real batch and "
                "on the fake batch separately, as the DCGAN recipe does.",
                bce_with_logits(both[:BATCH], 1) + bce_with_logits(both[BATCH:], 0),
            ),
        ]

    _leave_old_gradients(D, other)  # as the G step of the loop before would
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    g_before, d_before = _weights(G), _weights(D)
    with gradients_reaching(G.parameters()) as reached_g:  # however .grad looks after
        loss = _student_loss(d_step, name, G, D, opt_d, real.clone(), z.clone())
    moved = _weights(D) - d_before

    if reached_g or _has_gradients(G) or not torch.equal(_weights(G), g_before):
        raise ExerciseError(
            "D's loss backpropagated into G's weights: score D(fake.detach()) (or "
            "make the fakes under torch.no_grad()) so that D's update stops at the "
            "images. Otherwise loss.backward() also runs through G: a wasted "
            "backward pass, and gradients in G that corrupt its next update. Zeroing "
            "G's gradients afterwards (G.zero_grad()) hides them but does not save "
            "the pass."
        )
    if not all(p.requires_grad for p in G.parameters()):
        raise ExerciseError(
            "G's weights are left frozen (requires_grad False) after d_step, so G "
            "cannot learn in its own step: if you freeze G here, call "
            "G.requires_grad_(True) before returning. fake.detach() is simpler."
        )
    if moved.abs().max() == 0:
        raise ExerciseError(
            "D's weights did not change: after computing the loss call "
            "opt_d.zero_grad(), loss.backward() and opt_d.step(), in that order."
        )
    if not math.isfinite(loss):
        raise ExerciseError(f"{name} returned a loss of {loss}; it should be finite.")
    # the mean of the two terms instead of their sum is a valid convention
    scale = 0.5 if close(loss, want_loss / 2, **TOLERANCE) else 1.0
    if scale != 1 and close(moved, want_move, rtol=0, atol=1e-3 * _largest(want_move)):
        raise ExerciseError(
            "the loss you return is the mean of the real and the fake term, but "
            "D's update is that of their sum: call backward on the loss you return."
        )
    want_loss, want_move = scale * want_loss, scale * want_move
    _check_update(name, loss, want_loss, moved, want_move, mistakes, _D_SAYS)

    G, D, real, z, _ = _tiny_gan(seed=1)
    D = _confident(D, CONFIDENT)  # D says 'real' to everything, fakes included
    want_loss, _ = _reference_d_step(G, D, real, z)
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    loss = _student_loss(d_step, name, G, D, opt_d, real, z)
    _check_confident(name, loss, scale * want_loss, _D_SAYS)
    G, D, real, z, _ = (on_meta(x, torch.float64) for x in _tiny_gan(seed=5))
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    check_device_safe(d_step, [G, D, opt_d, real, z], name, dtype=torch.float64)
    if scale != 1:
        print(_MEAN_NOTE)
    print(
        "Correct: D learns from real (target 1) and detached fake (target 0) "
        "images, G is untouched, and the loss is exact even when D is very sure."
    )


def _reference_g_step(G, D, z) -> tuple[float, torch.Tensor]:
    """The right G step on copies: (loss, change of G's weights)."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    before = _weights(G)
    loss = bce_with_logits(D(G(z)), 1.0)  # -log D(G(z))
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.item(), _weights(G) - before


def check_g_step(g_step) -> None:
    """Check g_step(G, D, opt_g, z): one non-saturating update of G only."""
    name = "g_step"
    G, D, _, z, _ = _tiny_gan(seed=2)
    want_loss, want_move = _reference_g_step(G, D, z)
    with torch.no_grad():
        logits = copy.deepcopy(D)(copy.deepcopy(G)(z))  # (8,)
        mistakes = [
            Mistake(
                "that is the minimax loss, mean log(1 - D(G(z))). Its gradient is "
                "proportional to D(G(z)), about 0 when D confidently rejects the "
                "fakes, as it does early in training, so G would barely learn. "
                "Minimise the non-saturating loss -log D(G(z)): BCE with logits "
                "against target 1.",
                -F.softplus(logits).mean(),  # mean log(1 - D(G(z)))
            ),
            Mistake(
                "G's images were given target 0 ('fake'): G wants D to call them "
                "real, so its loss is BCE(D(G(z)), ones).",
                bce_with_logits(logits, 0),
            ),
            Mistake(
                "the sign is flipped: G minimises -log D(G(z)) = BCE(D(G(z)), 1).",
                -want_loss,
            ),
            Mistake(
                "you applied a sigmoid before F.binary_cross_entropy_with_logits: it "
                "takes D's raw logits and applies the sigmoid itself. Pass them "
                "straight in.",
                bce_with_logits(torch.sigmoid(logits), 1),
            ),
        ]

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        _leave_old_gradients(G, torch.randn(BATCH, Z_DIM))  # as the last G step would
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    g_before, d_before = _weights(G), _weights(D)
    loss = _student_loss(g_step, name, G, D, opt_g, z.clone())
    moved = _weights(G) - g_before

    if not torch.equal(_weights(D), d_before):
        raise ExerciseError(
            "D's weights changed during G's step: only opt_g may take a step here. "
            "G's loss is low when D is fooled, so an update of D on it would teach "
            "D to be fooled."
        )
    if not all(p.requires_grad for p in D.parameters()):
        raise ExerciseError(
            "D's weights are left frozen (requires_grad False) after g_step: if you "
            "freeze D during G's step, call D.requires_grad_(True) before returning."
        )
    if moved.abs().max() == 0:
        raise ExerciseError(
            "G's weights did not change: make fake = G(z) without .detach() (the "
            "gradient must flow from D's output back into G), then call "
            "opt_g.zero_grad(), loss.backward() and opt_g.step()."
        )
    _check_update(name, loss, want_loss, moved, want_move, mistakes, _G_SAYS)

    G, D, _, z, _ = _tiny_gan(seed=4)
    D = _confident(D, -CONFIDENT)  # D rejects every fake with certainty
    want_loss, _ = _reference_g_step(G, D, z)
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    loss = _student_loss(g_step, name, G, D, opt_g, z)
    _check_confident(name, loss, want_loss, _G_SAYS)
    G, D, _, z, _ = (on_meta(x, torch.float64) for x in _tiny_gan(seed=5))
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    check_device_safe(g_step, [G, D, opt_g, z], name, dtype=torch.float64)
    print(
        "Correct: G minimises -log D(G(z)) through D, D's weights stay as they are, "
        "and the gradient is there even when D rejects every fake."
    )
