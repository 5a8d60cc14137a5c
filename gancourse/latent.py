"""Paths between noise vectors: spherical interpolation (notebook 05 teaches it).

For vectors z0, z1 at an angle W to each other (Shoemake, 1985; White, 2016 for
GAN noise):

    slerp(z0, z1, t) = sin((1 - t) W) / sin(W) * z0 + sin(t W) / sin(W) * z1

For z0 and z1 of equal length the path keeps that length; linear interpolation
cuts through the inside of the sphere instead.
"""

from __future__ import annotations

import math

import torch

from gancourse.errors import UsageError

PARALLEL = 1e-4  # radians: below this angle slerp equals linear interpolation


def angle(z0: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
    """Angle in radians between z0 and z1 over the last dimension: (..., D) -> (...)."""
    u = z0 / z0.norm(dim=-1, keepdim=True)  # (..., D) unit vectors
    v = z1 / z1.norm(dim=-1, keepdim=True)
    return 2 * torch.atan2((u - v).norm(dim=-1), (u + v).norm(dim=-1))  # accurate at 0


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation from z0 (t=0) to z1 (t=1); shape t.shape + z0.shape."""
    if z0.shape != z1.shape:
        raise UsageError(
            f"z0 {tuple(z0.shape)} and z1 {tuple(z1.shape)} must have the same shape."
        )
    if (z0.norm(dim=-1) == 0).any() or (z1.norm(dim=-1) == 0).any():
        raise UsageError("a zero vector has no direction: slerp needs nonzero z0, z1.")
    omega = angle(z0, z1)[..., None]  # (..., 1)
    if (omega > math.pi - PARALLEL).any():
        raise UsageError(
            "z0 and z1 point in opposite directions: every great circle joins them, "
            "so slerp has no unique path. Use another pair of noise vectors."
        )
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    t = t.reshape(t.shape + (1,) * z0.ndim)  # (T..., 1, ..., 1) against (..., D)
    parallel = omega < PARALLEL  # (..., 1): sin(omega) ~ 0, use the limit
    sin_omega = torch.where(parallel, torch.ones_like(omega), torch.sin(omega))
    w0 = torch.where(parallel, 1 - t, torch.sin((1 - t) * omega) / sin_omega)
    w1 = torch.where(parallel, t, torch.sin(t * omega) / sin_omega)
    return w0 * z0 + w1 * z1  # (T..., ..., D)
