"""The DCGAN generator: noise (and a label) -> an image in [-1, 1]."""

from __future__ import annotations

import torch
from torch import nn

from gancourse.errors import UsageError
from gancourse.models.config import DEPTHS, GeneratorConfig, stages
from gancourse.models.layers import init_weights, maybe_sn, norm2d, same, up


class Generator(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> images (N, C, H, W) through tanh."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config.check()
        c = config
        first_size, n_up = stages(c.image_size)
        widths = [c.width * 2 ** (n_up - 1 - i) for i in range(n_up)]  # e.g. 4w, 2w, w
        self.label_embedding = (
            nn.Embedding(c.num_classes, c.embed_dim)
            if c.conditioning != "none"
            else None
        )
        z_in = c.z_dim + (c.embed_dim if self.label_embedding is not None else 0)
        sn, bn = c.spectral_norm, c.batchnorm
        if c.linear_first:  # report 002: Linear -> reshape
            self.project = nn.Sequential(
                maybe_sn(nn.Linear(z_in, widths[0] * first_size**2, bias=False), sn),
                nn.Unflatten(1, (widths[0], first_size, first_size)),
                norm2d(widths[0], bn),
                nn.ReLU(inplace=True),
            )
        else:  # pytorch/examples: a ConvTranspose from 1x1 to first_size x first_size
            self.project = nn.Sequential(
                nn.Unflatten(1, (z_in, 1, 1)),
                maybe_sn(
                    nn.ConvTranspose2d(z_in, widths[0], first_size, 1, 0, bias=False),
                    sn,
                ),
                norm2d(widths[0], bn),
                nn.ReLU(inplace=True),
            )
        blocks: list[nn.Module] = []
        for i in range(n_up - 1):
            blocks += [
                maybe_sn(up(widths[i], widths[i + 1], c.kernel_size), sn),
                norm2d(widths[i + 1], bn),
                nn.ReLU(inplace=True),
            ]
            for _ in range(DEPTHS[c.depth]):
                blocks += [
                    maybe_sn(same(widths[i + 1]), sn),
                    norm2d(widths[i + 1], bn),
                    nn.ReLU(inplace=True),
                ]
        self.body = nn.Sequential(*blocks)
        last = up(widths[-1], c.channels, c.kernel_size)
        self.to_image = nn.Sequential(maybe_sn(last, sn), nn.Tanh())
        init_weights(self)

    def forward(
        self, z: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Map noise (N, z_dim), and labels (N,) for a conditional G, to images."""
        if self.label_embedding is not None:
            if labels is None:
                raise UsageError(
                    "this generator is conditional: call it as G(z, labels) "
                    f"with labels in 0..{self.config.num_classes - 1}."
                )
            z = torch.cat([z, self.label_embedding(labels)], dim=1)  # (N, z+e)
        x = self.project(z)  # (N, 4w, 4, 4) for 32 px
        x = self.body(x)  # (N, w, 16, 16) for 32 px
        return self.to_image(x)  # (N, C, 32, 32)

    def sample_noise(
        self, n: int, device=None, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """n noise vectors z ~ N(0, I), shape (n, z_dim)."""
        return torch.randn(n, self.config.z_dim, device=device, generator=generator)
