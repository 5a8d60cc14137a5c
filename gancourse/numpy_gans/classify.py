"""Classifying with gancourse.nn_numpy: softmax cross-entropy, minibatches, accuracy."""

import numpy as np


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) (N, K) against integer labels (N,)."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -log_probs[rows, labels].mean()
    grad = np.exp(log_probs)  # softmax - one_hot, divided by N for the mean
    grad[rows, labels] -= 1.0
    return float(loss), grad / len(labels)


def minibatches(n, batch_size, rng):
    """Yield the indices of one shuffled pass over n samples, batch_size at a time."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def predict(model, x, batch_size=1000):
    """The class with the largest logit for each row of x, in batches."""
    chunks = [
        model.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(chunks).argmax(axis=1)


def accuracy(predictions, labels):
    """The fraction of predictions equal to their labels."""
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))
