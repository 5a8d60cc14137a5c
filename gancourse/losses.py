"""GAN losses on discriminator logits, ACGAN's class loss and the gradient penalties.

Every discriminator in the course returns logits (no sigmoid), so the
BCE-based losses use `binary_cross_entropy_with_logits`, which stays finite
where `log(sigmoid(x))` would underflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.errors import UsageError

LOSSES = ("minimax", "non-saturating", "wasserstein", "hinge", "relativistic")


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
    if name == "relativistic":  # each real above the fake it is paired with
        return relativistic_d_loss(real_logits, fake_logits)
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()  # hinge


def g_loss(
    name: str, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
) -> torch.Tensor:
    """G's loss to minimise, from D's outputs on G's samples (and on real ones).

    Only the relativistic loss reads `real_logits`: it pairs each fake with a real.
    """
    _check_loss(name)
    if name == "relativistic":
        if real_logits is None:
            raise UsageError(
                "the relativistic G loss pairs each fake score with a real one: "
                "pass real_logits=D(real batch)."
            )
        return relativistic_g_loss(real_logits, fake_logits)
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
    x_hat = eps * real.detach() + (1 - eps) * fake.detach()
    norms = input_gradients(critic, x_hat, labels).norm(2, dim=1)  # (N,)
    return ((norms - 1) ** 2).mean()


def input_gradients(
    critic: nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """grad_x D(x) per image, (N, C*H*W) in float32, graph kept to train D.

    The images are detached, so the gradient never reaches G; an ACGAN critic's
    real/fake score is used; a half-precision gradient is widened to float32, where
    its norm and square sum cannot overflow.
    """
    x = images.detach().requires_grad_(True)
    scores = critic(x) if labels is None else critic(x, labels)
    if isinstance(scores, tuple):  # a critic with a class head: its real/fake score
        scores = scores[0]
    (grads,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    grads = grads.flatten(1)  # (N, C*H*W)
    if grads.dtype in (torch.float16, torch.bfloat16):
        grads = grads.float()
    return grads


def relativistic_d_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """RpGAN's D loss: E[softplus(-(D(x_i) - D(G(z_i))))] over paired samples.

    The relativistic pairing loss (Jolicoeur-Martineau 2019; R3GAN, Huang et al.
    2024): D is asked that each real image score above the fake it is paired with,
    not that real scores be high and fake ones low in absolute terms.
    """
    _check_pairs(real_logits, fake_logits)
    return F.softplus(-(real_logits - fake_logits)).mean()


def relativistic_g_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> torch.Tensor:
    """RpGAN's G loss: E[softplus(-(D(G(z_i)) - D(x_i)))], the roles swapped."""
    _check_pairs(real_logits, fake_logits)
    return F.softplus(-(fake_logits - real_logits)).mean()


def _check_pairs(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> None:
    """The pairing loss compares sample i with sample i: the shapes must agree."""
    if real_logits.shape != fake_logits.shape:
        raise UsageError(
            f"the pairing loss pairs each real score with one fake score, but got "
            f"{tuple(real_logits.shape)} real and {tuple(fake_logits.shape)} fake: "
            "use batches of the same size."
        )


def zero_centred_penalty(
    critic: nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """E[||grad_x D(x)||^2] at the given images: R1 on real ones, R2 on fake ones.

    Mescheder et al. 2018 (R1), R3GAN (R1 + R2). Zero-centred: the gradient is
    pushed toward 0 at the data (R1) or at G's samples (R2), not toward norm 1 as
    in WGAN-GP. The loss adds gamma / 2 times it. The graph is kept, so the penalty
    trains D; images are detached, so it never reaches G.
    """
    return input_gradients(critic, images, labels).pow(2).sum(1).mean()


@torch.no_grad()
def clip_weights(critic: nn.Module, clip: float) -> None:
    """WGAN: clamp every critic parameter to [-clip, clip] after its optimiser step."""
    for parameter in critic.parameters():
        parameter.clamp_(-clip, clip)
