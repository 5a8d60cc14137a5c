"""The DCGAN discriminator / WGAN critic: image (and label) -> a logit, no sigmoid.

A conditional D takes the label one of three ways (DiscriminatorConfig.conditioning):
"cgan" adds it as an extra image channel at the input; "acgan" ignores it and has
a second head that names the class; "projection" (Miyato & Koyama 2018) adds
<embed(y), phi(x)> to the logit, where phi(x) are D's last features summed over
the image: D asks "is this a real image of class y?" at the top, where features
are about the whole digit.
"""

from __future__ import annotations

import torch
from torch import nn

from gancourse.errors import UsageError
from gancourse.models.config import DEPTHS, DiscriminatorConfig, stages
from gancourse.models.layers import down, init_weights, maybe_sn, norm2d, same


class Discriminator(nn.Module):
    """images (N, C, H, W) [+ labels (N,)] -> logits (N,); ACGAN adds class logits."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.config = config.check()
        c = config
        last_size, n_down = stages(c.image_size)
        widths = [c.width * 2**i for i in range(n_down)]  # e.g. w, 2w, 4w
        sn, bn = c.spectral_norm, c.batchnorm
        self.label_map = None
        in_ch = c.channels
        if c.conditioning == "cgan":  # the label as one extra image channel
            self.label_map = nn.Embedding(c.num_classes, c.image_size**2)
            in_ch += 1
        layers: list[nn.Module] = [
            maybe_sn(down(in_ch, widths[0], c.kernel_size), sn),
            nn.LeakyReLU(0.2, inplace=True),  # no norm on the first layer (DCGAN)
        ]
        for i in range(n_down):
            if i > 0:
                layers += [
                    maybe_sn(down(widths[i - 1], widths[i], c.kernel_size), sn),
                    norm2d(widths[i], bn),
                    nn.LeakyReLU(0.2, inplace=True),
                ]
            if i < n_down - 1:
                for _ in range(DEPTHS[c.depth]):
                    layers += [
                        maybe_sn(same(widths[i]), sn),
                        norm2d(widths[i], bn),
                        nn.LeakyReLU(0.2, inplace=True),
                    ]
        self.body = nn.Sequential(*layers)
        self.real_fake = nn.Sequential(
            maybe_sn(nn.Conv2d(widths[-1], 1, last_size), sn), nn.Flatten(0)
        )
        self.projection = None
        if c.conditioning == "projection":  # one feature vector per class
            embedding = nn.Embedding(c.num_classes, widths[-1])
            nn.init.normal_(embedding.weight, 0.0, 0.02)  # small, as the convs
            self.projection = maybe_sn(embedding, sn)
        self.class_head = None
        if c.conditioning == "acgan":
            self.class_head = nn.Sequential(
                maybe_sn(nn.Conv2d(widths[-1], c.num_classes, last_size), sn),
                nn.Flatten(1),
            )
        init_weights(self)

    @property
    def takes_labels(self) -> bool:
        """True if D is called as D(x, labels): "cgan" and "projection" are."""
        return self.config.conditioning in ("cgan", "projection")

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None):
        """Logits (N,); an ACGAN returns (logits (N,), class logits (N, K))."""
        if self.takes_labels and labels is None:
            raise UsageError(
                f"this discriminator is conditional ({self.config.conditioning}): "
                "call it as D(x, labels)."
            )
        if self.label_map is not None:
            size = self.config.image_size
            label_plane = self.label_map(labels).view(-1, 1, size, size)  # (N, 1, H, W)
            x = torch.cat([x, label_plane.to(x.dtype)], dim=1)  # (N, C+1, H, W)
        features = self.body(x)  # (N, 4w, 4, 4) for 32 px
        logits = self.real_fake(features)  # (N,)
        if self.projection is not None:
            pooled = features.sum(dim=(2, 3))  # (N, 4w): phi(x)
            class_vectors = self.projection(labels).to(pooled.dtype)  # (N, 4w)
            logits = logits + (class_vectors * pooled).sum(dim=1)  # (N,)
        if self.class_head is not None:
            return logits, self.class_head(features)  # (N,), (N, K)
        return logits
