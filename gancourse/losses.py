"""GAN losses on discriminator logits, ACGAN's class loss and WGAN-GP's penalty.

Every discriminator in the course returns logits (no sigmoid), so the
BCE-based losses use `binary_cross_entropy_with_logits`, which stays finite
where `log(sigmoid(x))` would underflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.errors import UsageError

LOSSES = ("minimax", "non-saturating", "wasserstein", "hinge")


def _check_loss(name: str) -> None:
    if name not in LOSSES:
        raise UsageError(f"unknown GAN loss {name!r}; choose one of {list(LOSSES)}.")


def d_loss(
    name: str, real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """D's (or the critic's) loss to minimise, from its outputs on real and fake."""
    _check_loss(name)
    if name in ("minimax", "non-saturating"):  # -log D(x) - log(1 - D(G(z)))
        real = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        )
        fake = F.binary_cross_entropy_with_logits(
            fake_logits, torch.zeros_like(fake_logits)
        )
        return real + fake
    if name == "wasserstein":  # the critic maximises E[f(x)] - E[f(G(z))]
        return fake_logits.mean() - real_logits.mean()
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()  # hinge


def g_loss(name: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """G's loss to minimise, from D's outputs on G's samples."""
    _check_loss(name)
    if name == "minimax":  # E[log(1 - D(G(z)))] = E[-softplus(logit)]
        return -F.softplus(fake_logits).mean()
    if name == "non-saturating":  # -E[log D(G(z))]
        return F.binary_cross_entropy_with_logits(
            fake_logits, torch.ones_like(fake_logits)
        )
    return -fake_logits.mean()  # wasserstein and hinge


def auxiliary_loss(class_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """ACGAN's class loss: cross-entropy of D's class head against the labels."""
    return F.cross_entropy(class_logits, labels)


def gradient_penalty(
    critic: nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP: E[(||grad f(x_hat)||_2 - 1)^2] at x_hat between real and fake.

    One interpolation weight per sample; the norm is over all non-batch
    dimensions; the graph is kept so the penalty trains the critic.
    """
    if real.shape != fake.shape:
        raise UsageError(
            f"real {tuple(real.shape)} and fake {tuple(fake.shape)} differ in shape."
        )
    n = real.shape[0]
    eps_shape = (n,) + (1,) * (real.ndim - 1)  # (N, 1, 1, 1): one weight per sample
    eps = torch.rand(eps_shape, device=real.device, generator=generator)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat) if labels is None else critic(x_hat, labels)
    if isinstance(scores, tuple):  # an ACGAN critic: use its real/fake score
        scores = scores[0]
    (grads,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    grads = grads.flatten(1)  # (N, C*H*W)
    if grads.dtype in (torch.float16, torch.bfloat16):
        grads = grads.float()  # a half-precision norm overflows
    norms = grads.norm(2, dim=1)  # (N,)
    return ((norms - 1) ** 2).mean()


@torch.no_grad()
def clip_weights(critic: nn.Module, clip: float) -> None:
    """WGAN: clamp every critic parameter to [-clip, clip] after its optimiser step."""
    for parameter in critic.parameters():
        parameter.clamp_(-clip, clip)
