"""DiffAugment: differentiable augmentation of D's inputs, real and fake alike.

Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training" (2020).
With little data D memorises the training images; augmenting them stops that, but
augmenting only the real images teaches G to draw augmented images. DiffAugment
applies the same *kind* of random augmentation T to every image D sees, real and
fake, in D's update and in G's:

    L_D = E[f(D(T(x)))] + E[h(D(T(G(z))))],    L_G = E[g(D(T(G(z))))]

and since every T here is differentiable, G's gradient flows back through it. Each
image draws its own random parameters. The policies follow the authors' reference
code: 'color' (brightness, saturation, contrast), 'translation' (shift by up to 1/8
of the side, zero fill) and 'cutout' (a zero square of half the side). Images are
(N, C, H, W) in [-1, 1], so zero is mid-grey.
"""

from __future__ import annotations

import torch

from gancourse.errors import UsageError

POLICIES = ("color", "translation", "cutout")


def _uniform(x: torch.Tensor, generator) -> torch.Tensor:
    """One number in [0, 1) per image, shaped to broadcast: (N, 1, 1, 1)."""
    return torch.rand(
        x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device, generator=generator
    )


def rand_brightness(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Add one number in [-0.5, 0.5) to every pixel of an image."""
    return x + (_uniform(x, generator) - 0.5)


def rand_saturation(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Scale each pixel's distance from its grey (channel mean) by [0, 2)."""
    grey = x.mean(dim=1, keepdim=True)  # (N, 1, H, W)
    return (x - grey) * (_uniform(x, generator) * 2) + grey


def rand_contrast(x: torch.Tensor, generator=None) -> torch.Tensor:
    """Scale each image's distance from its mean by a factor in [0.5, 1.5)."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def translate(x: torch.Tensor, shift_h: torch.Tensor, shift_w: torch.Tensor):
    """Shift image i down by shift_h[i] and right by shift_w[i] pixels, zero fill."""
    n, _, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - shift_h[:, None]  # (N, H)
    cols = torch.arange(w, device=x.device)[None, :] - shift_w[:, None]  # (N, W)
    inside_rows = (rows >= 0) & (rows < h)
    inside_cols = (cols >= 0) & (cols < w)
    batch = torch.arange(n, device=x.device)[:, None, None]  # (N, 1, 1)
    moved = x.permute(0, 2, 3, 1)[  # (N, H, W, C): gather whole pixels
        batch, rows.clamp(0, h - 1)[:, :, None], cols.clamp(0, w - 1)[:, None, :]
    ].permute(0, 3, 1, 2)  # (N, C, H, W)
    inside = inside_rows[:, :, None] & inside_cols[:, None, :]  # (N, H, W)
    return moved * inside[:, None].to(x.dtype)


def rand_translation(x: torch.Tensor, ratio=0.125, generator=None) -> torch.Tensor:
    """Shift each image by up to ratio x its side in each direction (integers)."""
    h, w = x.shape[2:]
    most_h, most_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    n = x.shape[0]
    shift_h = torch.randint(
        -most_h, most_h + 1, (n,), device=x.device, generator=generator
    )
    shift_w = torch.randint(
        -most_w, most_w + 1, (n,), device=x.device, generator=generator
    )
    return translate(x, shift_h, shift_w)


def cutout(x: torch.Tensor, centre_h, centre_w, size_h: int, size_w: int):
    """Set to zero a size_h x size_w box centred at (centre_h[i], centre_w[i])."""
    h, w = x.shape[2:]
    top = centre_h[:, None] - size_h // 2  # (N, 1)
    left = centre_w[:, None] - size_w // 2
    rows = torch.arange(h, device=x.device)[None, :]  # (1, H)
    cols = torch.arange(w, device=x.device)[None, :]
    in_rows = (rows >= top) & (rows < top + size_h)  # (N, H)
    in_cols = (cols >= left) & (cols < left + size_w)  # (N, W)
    box = in_rows[:, :, None] & in_cols[:, None, :]  # (N, H, W)
    return x * (~box)[:, None].to(x.dtype)


def rand_cutout(x: torch.Tensor, ratio=0.5, generator=None) -> torch.Tensor:
    """Zero a box of ratio x the side at a random centre of each image."""
    h, w = x.shape[2:]
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    n = x.shape[0]
    centre_h = torch.randint(
        0, h + (1 - size_h % 2), (n,), device=x.device, generator=generator
    )
    centre_w = torch.randint(
        0, w + (1 - size_w % 2), (n,), device=x.device, generator=generator
    )
    return cutout(x, centre_h, centre_w, size_h, size_w)


AUGMENTS = {
    "color": (rand_brightness, rand_saturation, rand_contrast),
    "translation": (rand_translation,),
    "cutout": (rand_cutout,),
}


def check_policy(policy: str) -> tuple[str, ...]:
    """The names in a policy like 'color,translation,cutout'; one error if unknown."""
    names = tuple(n.strip() for n in str(policy).split(",") if n.strip())
    unknown = [name for name in names if name not in AUGMENTS]
    if not isinstance(policy, str) or unknown:
        raise UsageError(
            f"unknown DiffAugment policy {unknown or policy!r}: use a comma-separated "
            f"list of {', '.join(POLICIES)} (e.g. 'color,translation,cutout')."
        )
    return names


def diff_augment(x: torch.Tensor, policy: str, generator=None) -> torch.Tensor:
    """Apply the policy's augmentations in order; differentiable in x."""
    for name in check_policy(policy):
        for augment in AUGMENTS[name]:
            x = augment(x, generator=generator)
    return x
