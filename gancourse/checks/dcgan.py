"""Checks for notebook 05's exercises: one update of D and one update of G in PyTorch.

Each check builds a tiny DCGAN from gancourse.models, runs the student's step
and a reference step on identical copies, and compares the loss, which weights
moved and how. A second case uses a very confident D (logits near +-200), where
sigmoid followed by log or BCELoss breaks down and BCE with logits does not.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks.core import ExerciseError, call_student
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


def _same_move(moved: torch.Tensor, expected: torch.Tensor) -> bool:
    """Whether two weight changes agree up to float rounding."""
    scale = expected.abs().max().item()
    return (moved - expected).abs().max().item() <= 1e-3 * scale + 1e-9


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """The cosine of the angle between two weight changes."""
    return F.cosine_similarity(a, b, dim=0).item()


def _loss_value(loss, name: str) -> float:
    """The student's returned loss as a float, or a clear ExerciseError."""
    if loss is None:
        raise ExerciseError(f"{name} returns nothing: end it with `return loss`.")
    if isinstance(loss, torch.Tensor):
        if loss.numel() != 1:
            raise ExerciseError(
                f"{name} should return the loss as one number (a mean over the "
                f"batch), got a tensor of shape {tuple(loss.shape)}."
            )
        return loss.detach().float().item()
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise ExerciseError(
            f"{name} should return the loss (a number), got {type(loss).__name__}."
        ) from None


def _call(function, name: str, *args):
    """Call the student's step, naming BCELoss fed with logits in plain words."""
    try:
        return call_student(function, *args)
    except ExerciseError as error:
        if "between 0 and 1" in str(error):
            raise ExerciseError(
                f"{name} gave D's raw outputs to BCELoss, which expects "
                "probabilities between 0 and 1. Our D returns logits (no sigmoid): "
                "use F.binary_cross_entropy_with_logits(logits, targets)."
            ) from None
        raise


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean BCE of sigmoid(logits) against a constant target."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * abs(b) + 1e-5


def _reference_d_step(G, D, real, z) -> tuple[float, torch.Tensor]:
    """The right D step on copies: (loss, change of D's weights)."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    before = _weights(D)
    fake = G(z)  # (N, 1, 28, 28)
    loss = _bce(D(real), 1.0) + _bce(D(fake.detach()), 0.0)
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
        mistakes = {
            "sign": -want_loss,
            "sigmoid": (
                _bce(real_logits.sigmoid(), 1) + _bce(fake_logits.sigmoid(), 0)
            ).item(),
            "halved": want_loss / 2,
            "real only": _bce(real_logits, 1).item(),
            "fake only": _bce(fake_logits, 0).item(),
            "one batch": (_bce(both[:BATCH], 1) + _bce(both[BATCH:], 0)).item(),
        }

    _leave_old_gradients(D, other)  # as the G step of the loop before would
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    g_before, d_before = _weights(G), _weights(D)
    loss = _loss_value(_call(d_step, name, G, D, opt_d, real.clone(), z.clone()), name)
    moved = _weights(D) - d_before

    if _has_gradients(G) or not torch.equal(_weights(G), g_before):
        raise ExerciseError(
            "G's weights received gradients from D's loss: score D(fake.detach()) "
            "(or make the fakes under torch.no_grad()) so that D's update stops at "
            "the images. Otherwise D's loss also backpropagates through G: a wasted "
            "backward pass, and gradients left in G that corrupt its next update "
            "unless something zeroes them first."
        )
    if moved.abs().max() == 0:
        raise ExerciseError(
            "D's weights did not change: after computing the loss call "
            "opt_d.zero_grad(), loss.backward() and opt_d.step(), in that order."
        )
    if not torch.isfinite(torch.tensor(loss)):
        raise ExerciseError(f"{name} returned a loss of {loss}; it should be finite.")
    if _close(loss, mistakes["sign"]):
        raise ExerciseError(
            "the sign is flipped: D minimises the BCE, -[log D(x) + log(1 - "
            "D(G(z)))], which is the same as maximising log D(x) + log(1 - D(G(z)))."
        )
    if _close(loss, mistakes["sigmoid"]):
        raise ExerciseError(
            "you applied a sigmoid before F.binary_cross_entropy_with_logits: it "
            "takes D's raw logits and applies the sigmoid itself, stably. Pass the "
            "logits straight in."
        )
    if _close(loss, mistakes["halved"]):
        raise ExerciseError(
            "the loss is half of what it should be: add the two means, "
            "BCE(D(real), 1) + BCE(D(fake), 0), rather than averaging them."
        )
    if _close(loss, mistakes["real only"]) or _close(loss, mistakes["fake only"]):
        raise ExerciseError(
            "the loss has only one of its two terms: D's loss is "
            "BCE(D(real), 1) + BCE(D(fake.detach()), 0)."
        )
    if not _close(loss, want_loss) and _close(loss, mistakes["one batch"]):
        raise ExerciseError(
            "you scored real and fake images in one call of D: BatchNorm then "
            "normalises them with shared statistics. Call D on the real batch and "
            "on the fake batch separately, as the DCGAN recipe does."
        )
    wrong_way = ExerciseError(
        "D's update goes the wrong way: are the labels swapped? Real images "
        "have target 1 and generated ones target 0: "
        "BCE(D(real), ones) + BCE(D(fake.detach()), zeros)."
    )
    if not _close(loss, want_loss):
        if _cosine(moved, want_move) < 0:
            raise wrong_way
        raise ExerciseError(
            f"for this batch D's loss should be {want_loss:.4f}, {name} returns "
            f"{loss:.4f}. The loss is BCE(D(real), 1) + BCE(D(fake.detach()), 0), "
            "each a mean over its batch, with F.binary_cross_entropy_with_logits."
        )
    if not _same_move(moved, want_move):
        if _cosine(moved, want_move) < -0.5:
            raise wrong_way
        raise ExerciseError(
            "the loss is right but D's update is not: D still held gradients from "
            "an earlier backward (the G step leaves some), and loss.backward() adds "
            "to them. Call opt_d.zero_grad() before loss.backward(), and "
            "opt_d.step() once."
        )

    G, D, real, z, _ = _tiny_gan(seed=1)
    D = _confident(D, CONFIDENT)  # D says 'real' to everything, fakes included
    want_loss, _ = _reference_d_step(G, D, real, z)
    opt_d = torch.optim.SGD(D.parameters(), lr=LR)
    loss = _loss_value(_call(d_step, name, G, D, opt_d, real, z), name)
    if not torch.isfinite(torch.tensor(loss)):
        raise ExerciseError(
            f"when D is very sure (logits near {CONFIDENT:.0f}) {name} returns a loss "
            f"of {loss}: log(1 - sigmoid(200)) is log(0) in float32. Use "
            "F.binary_cross_entropy_with_logits on the raw logits, which stays finite."
        )
    if not _close(loss, want_loss):
        raise ExerciseError(
            f"when D is very sure (logits near {CONFIDENT:.0f}) {name} returns "
            f"{loss:.1f} instead of {want_loss:.1f}: sigmoid rounds to exactly 1 and "
            "BCELoss clips the log, so D gets no gradient from its worst mistakes. "
            "Drop the sigmoid and use F.binary_cross_entropy_with_logits."
        )
    print(
        "Correct: D learns from real (target 1) and detached fake (target 0) "
        "images, G is untouched, and the loss is exact even when D is very sure."
    )


def _reference_g_step(G, D, z) -> tuple[float, torch.Tensor]:
    """The right G step on copies: (loss, change of G's weights)."""
    G, D = copy.deepcopy(G), copy.deepcopy(D)
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    before = _weights(G)
    loss = _bce(D(G(z)), 1.0)  # -log D(G(z))
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
        mistakes = {
            "minimax": -F.softplus(logits).mean().item(),  # mean log(1 - D(G(z)))
            "target 0": _bce(logits, 0).item(),
            "sign": -want_loss,
            "sigmoid": _bce(torch.sigmoid(logits), 1).item(),
        }

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        _leave_old_gradients(G, torch.randn(BATCH, Z_DIM))  # as the last G step would
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    g_before, d_before = _weights(G), _weights(D)
    loss = _loss_value(_call(g_step, name, G, D, opt_g, z.clone()), name)
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
    if _close(loss, mistakes["minimax"]):
        raise ExerciseError(
            "that is the minimax loss, mean log(1 - D(G(z))). Its gradient is "
            "proportional to D(G(z)), about 0 when D confidently rejects the fakes, "
            "as it does early in training, so G would barely learn. Minimise the "
            "non-saturating loss -log D(G(z)): BCE with logits against target 1."
        )
    if _close(loss, mistakes["target 0"]):
        raise ExerciseError(
            "G's images were given target 0 ('fake'): G wants D to call them "
            "real, so its loss is BCE(D(G(z)), ones)."
        )
    if _close(loss, mistakes["sign"]):
        raise ExerciseError(
            "the sign is flipped: G minimises -log D(G(z)) = BCE(D(G(z)), 1)."
        )
    if _close(loss, mistakes["sigmoid"]):
        raise ExerciseError(
            "you applied a sigmoid before F.binary_cross_entropy_with_logits: it "
            "takes D's raw logits and applies the sigmoid itself. Pass them "
            "straight in."
        )
    wrong_way = ExerciseError(
        "G's update goes the wrong way: G minimises BCE(D(G(z)), ones), the "
        "loss that is low when D calls its images real."
    )
    if not _close(loss, want_loss):
        if _cosine(moved, want_move) < 0:
            raise wrong_way
        raise ExerciseError(
            f"for this noise G's loss should be {want_loss:.4f}, {name} returns "
            f"{loss:.4f}. It is -log D(G(z)) averaged over the batch: "
            "F.binary_cross_entropy_with_logits(D(G(z)), ones)."
        )
    if not _same_move(moved, want_move):
        if _cosine(moved, want_move) < -0.5:
            raise wrong_way
        raise ExerciseError(
            "the loss is right but G's update is not: G still held gradients from "
            "an earlier backward and loss.backward() adds to them. Call "
            "opt_g.zero_grad() before loss.backward(), and opt_g.step() once."
        )

    G, D, _, z, _ = _tiny_gan(seed=4)
    D = _confident(D, -CONFIDENT)  # D rejects every fake with certainty
    want_loss, _ = _reference_g_step(G, D, z)
    opt_g = torch.optim.SGD(G.parameters(), lr=LR)
    loss = _loss_value(_call(g_step, name, G, D, opt_g, z), name)
    if not torch.isfinite(torch.tensor(loss)):
        raise ExerciseError(
            f"when D rejects the fakes with certainty (logits near -{CONFIDENT:.0f}) "
            f"{name} returns a loss of {loss}: log(sigmoid(-200)) is log(0) in "
            "float32. Use F.binary_cross_entropy_with_logits on the raw logits."
        )
    if not _close(loss, want_loss):
        raise ExerciseError(
            f"when D rejects the fakes with certainty (logits near -{CONFIDENT:.0f}) "
            f"{name} returns {loss:.1f} instead of {want_loss:.1f}: sigmoid rounds "
            "to exactly 0 and BCELoss clips the log, so G gets no gradient just when "
            "it needs one most. Use F.binary_cross_entropy_with_logits on the logits."
        )
    print(
        "Correct: G minimises -log D(G(z)) through D, D's weights stay as they are, "
        "and the gradient is there even when D rejects every fake."
    )
