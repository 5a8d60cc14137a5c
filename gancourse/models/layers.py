"""Small building blocks shared by the generator and the discriminator."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm


def maybe_sn(layer: nn.Module, on: bool) -> nn.Module:
    """Wrap a conv or linear layer in torch's spectral-norm parametrization if `on`."""
    return spectral_norm(layer) if on else layer


def up(in_ch: int, out_ch: int, kernel_size: int) -> nn.ConvTranspose2d:
    """A transposed conv that doubles height and width (kernel 4 or 5)."""
    if kernel_size == 4:
        return nn.ConvTranspose2d(in_ch, out_ch, 4, stride=2, padding=1, bias=False)
    return nn.ConvTranspose2d(
        in_ch, out_ch, 5, stride=2, padding=2, output_padding=1, bias=False
    )


def down(in_ch: int, out_ch: int, kernel_size: int) -> nn.Conv2d:
    """A strided conv that halves height and width (kernel 4 or 5)."""
    padding = 1 if kernel_size == 4 else 2
    return nn.Conv2d(in_ch, out_ch, kernel_size, stride=2, padding=padding, bias=False)


def same(channels: int) -> nn.Conv2d:
    """A 3x3 stride-1 conv that keeps the size: the extra layers of depth."""
    return nn.Conv2d(channels, channels, 3, stride=1, padding=1, bias=False)


def norm2d(channels: int, on: bool) -> nn.Module:
    """BatchNorm2d when `on`, else nothing."""
    return nn.BatchNorm2d(channels) if on else nn.Identity()


def init_weights(module: nn.Module) -> None:
    """DCGAN init: conv and linear weights N(0, 0.02²), BatchNorm scales N(1, 0.02²)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if parametrize.is_parametrized(layer, "weight"):  # spectral norm
                _init_spectral_normed(layer)
            else:
                nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


def _init_spectral_normed(layer: nn.Module) -> None:
    """DCGAN init for a spectral-normed layer: its `weight` is computed, not stored."""
    weight = layer.parametrizations.weight.original
    nn.init.normal_(weight, 0.0, 0.02)
    norm = layer.parametrizations.weight[0]
    was_training = norm.training
    norm.train()
    with torch.no_grad():
        for _ in range(15):  # re-estimate sigma for the new weight, as torch does
            norm(weight)  # each call in train mode runs one power iteration
    norm.train(was_training)
