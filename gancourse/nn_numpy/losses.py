"""Losses that return (mean loss, gradient of the loss with respect to the input)."""

import numpy as np


def mse(pred, target):
    """Mean squared error."""
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 / diff.size) * diff


def bce(prob, target, eps=1e-12):
    """Binary cross-entropy of probabilities, clipped to [eps, 1 - eps]."""
    p = np.clip(prob, eps, 1.0 - eps)
    target = np.broadcast_to(target, p.shape)
    loss = -np.mean(target * np.log(p) + (1.0 - target) * np.log1p(-p))
    grad = (p - target) / (p * (1.0 - p) * p.size)
    return float(loss), grad


def bce_with_logits(logits, target):
    """Binary cross-entropy of sigmoid(logits), stable for any logit."""
    z = logits
    target = np.broadcast_to(target, z.shape)
    # log(1 + exp(z)) - z * t written so that exp never sees a positive number
    loss = np.maximum(z, 0.0) - z * target + np.log1p(np.exp(-np.abs(z)))
    sigmoid = 0.5 * (1.0 + np.tanh(0.5 * z))
    return float(np.mean(loss)), (sigmoid - target) / z.size


def softmax_cross_entropy(logits, labels):
    """Cross-entropy of softmax(logits) (N, K) against class labels (N,), stable."""
    labels = np.asarray(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    grad = np.exp(log_probs)  # softmax, (N, K)
    grad[rows, labels] -= 1.0
    return float(-log_probs[rows, labels].mean()), grad / len(labels)
