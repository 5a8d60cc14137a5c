"""The reference maths the checks compare with, written once: sigmoid and BCE."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), without overflow for large |z|."""
    return 0.5 * (1 + np.tanh(0.5 * z))


def bce_with_logits_numpy(logits: np.ndarray, target) -> tuple[float, np.ndarray]:
    """Mean BCE of sigmoid(logits) against `target`, and its gradient (NumPy)."""
    losses = np.logaddexp(0, logits) - logits * target  # softplus(z) - z * t
    return float(losses.mean()), (sigmoid(logits) - target) / logits.size


def bce_with_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean BCE of sigmoid(logits) against a constant `target` (torch)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))
