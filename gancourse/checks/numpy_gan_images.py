"""Checks for notebook 04's exercises: D's loss, and one step of the generator."""

from __future__ import annotations

import copy

import numpy as np

from gancourse.checks.core import ExerciseError, call_student
from gancourse.nn_numpy import SGD, Dense, LeakyReLU, Sequential, Tanh


def _bce_with_logits(logits: np.ndarray, target: float) -> tuple[float, np.ndarray]:
    """Mean BCE of sigmoid(logits) against `target`, and its gradient."""
    sigmoid = 1 / (1 + np.exp(-logits))
    loss = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
    return float(loss.mean()), (sigmoid - target) / logits.size


def _as_array(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The student's gradient as an array of `shape`, or a clear ExerciseError."""
    array = np.asarray(value, dtype=float)
    if array.shape != shape:
        raise ExerciseError(
            f"{name} should have the shape of the logits, {shape}, got {array.shape}."
        )
    return array


def check_discriminator_loss(discriminator_loss) -> None:
    """Check discriminator_loss(logits_real, logits_fake) -> (loss, grad_real, ...)."""
    rng = np.random.default_rng(4)
    logits_real = rng.normal(1.0, 2.0, (8, 1))
    logits_fake = rng.normal(-1.0, 2.0, (6, 1))
    before = logits_real.copy(), logits_fake.copy()
    out = call_student(discriminator_loss, logits_real, logits_fake)
    if not np.array_equal(logits_real, before[0]) or not np.array_equal(
        logits_fake, before[1]
    ):
        raise ExerciseError("discriminator_loss changed the logits it was given.")
    if not isinstance(out, tuple) or len(out) != 3:
        raise ExerciseError(
            "discriminator_loss should return three things: (loss, grad_real, "
            "grad_fake)."
        )
    loss = float(out[0])
    grad_real = _as_array(out[1], "grad_real", logits_real.shape)
    grad_fake = _as_array(out[2], "grad_fake", logits_fake.shape)

    loss_real, want_real = _bce_with_logits(logits_real, 1.0)
    loss_fake, want_fake = _bce_with_logits(logits_fake, 0.0)
    want_loss = loss_real + loss_fake
    swapped = (
        _bce_with_logits(logits_real, 0.0)[0] + _bce_with_logits(logits_fake, 1)[0]
    )
    squashed_real, squashed_fake = (1 / (1 + np.exp(-z)) for z in before)
    squashed = (
        _bce_with_logits(squashed_real, 1.0)[0] + _bce_with_logits(squashed_fake, 0)[0]
    )
    summed = len(logits_real) * loss_real + len(logits_fake) * loss_fake

    if np.isclose(loss, swapped):
        raise ExerciseError(
            "the labels are swapped: real images have target 1 and generated ones "
            "target 0, so the loss is BCE(logits_real, 1) + BCE(logits_fake, 0)."
        )
    if np.isclose(loss, squashed):
        raise ExerciseError(
            "you applied a sigmoid before BCE-with-logits: bce_with_logits takes "
            "the raw logits and applies the sigmoid itself (stably). Pass the "
            "logits straight in."
        )
    if np.isclose(loss, summed) or np.allclose(grad_real, want_real * len(before[0])):
        raise ExerciseError(
            "you summed over the batch instead of averaging: take the mean over "
            "each batch, so the gradient of each logit is (sigmoid(z) - target) / N."
        )
    if np.isclose(loss, want_loss / 2):
        raise ExerciseError(
            "the loss is half what it should be: add the real and the fake mean "
            "losses, do not average them."
        )
    if not np.isclose(loss, want_loss):
        raise ExerciseError(
            f"the loss should be {want_loss:.4f} for these logits, got {loss:.4f}: "
            "it is -mean(log D(x)) - mean(log(1 - D(G(z))))."
        )
    for name, got, want in (
        ("grad_real", grad_real, want_real),
        ("grad_fake", grad_fake, want_fake),
    ):
        if np.allclose(got, -want):
            raise ExerciseError(
                f"{name} has the wrong sign: it is (sigmoid(z) - target) / N, the "
                "direction that increases the loss."
            )
        if not np.allclose(got, want):
            raise ExerciseError(
                f"the loss is right but {name} is not: for each logit z it is "
                "(sigmoid(z) - target) / N, N the size of that batch."
            )
    print("Correct: D's loss is BCE(real, 1) + BCE(fake, 0), each averaged.")


def _small_gan(rng: np.random.Generator) -> tuple[Sequential, Sequential]:
    """A tiny G (3 -> 4 values in (-1, 1)) and a D that calls G's samples fake."""
    generator = Sequential(
        Dense(3, 5, rng=rng), LeakyReLU(0.2), Dense(5, 4, rng=rng), Tanh()
    )
    discriminator = Sequential(
        Dense(4, 6, rng=rng), LeakyReLU(0.2), Dense(6, 1, rng=rng)
    )
    discriminator[2].params["b"][:] = -3.0  # D(G(z)) near 0.05: the usual start
    return generator, discriminator


def _reference_step(generator, discriminator, noise, lr, kind, stale=None):
    """G's weights after one SGD step of the `kind` loss; `stale`: old grads kept."""
    generator, discriminator = copy.deepcopy(generator), copy.deepcopy(discriminator)
    generator.zero_grad()
    if stale is not None:
        for (_, grad), old in zip(generator.parameters(), stale, strict=True):
            grad += old
    logits = discriminator(generator(noise))
    if kind == "non-saturating":
        loss, grad = _bce_with_logits(logits, 1.0)
    elif kind == "minimax":
        loss, grad = _bce_with_logits(logits, 0.0)
        loss, grad = -loss, -grad
    else:  # "wrong way": D's own target 0 for fakes, minimised by G
        loss, grad = _bce_with_logits(logits, 0.0)
    generator.backward(discriminator.backward(grad))
    SGD(generator.parameters(), lr=lr).step()
    return loss, [param.copy() for param, _ in generator.parameters()]


def check_generator_step(generator_step) -> None:
    """Check generator_step(G, D, opt_g, noise) makes one non-saturating G update."""
    rng = np.random.default_rng(0)
    generator, discriminator = _small_gan(rng)
    noise = rng.standard_normal((16, 3))
    lr = 0.5
    stale = [np.ones_like(grad) for _, grad in generator.parameters()]
    for (_, grad), old in zip(generator.parameters(), stale, strict=True):
        grad[...] = old  # gradients left over from an earlier step
    g_before = [param.copy() for param, _ in generator.parameters()]
    d_before = [param.copy() for param, _ in discriminator.parameters()]
    opt_g = SGD(generator.parameters(), lr=lr)
    want_loss, want = _reference_step(
        generator, discriminator, noise, lr, "non-saturating"
    )

    loss = call_student(generator_step, generator, discriminator, opt_g, noise)

    d_after = [param for param, _ in discriminator.parameters()]
    if not all(np.array_equal(a, b) for a, b in zip(d_after, d_before, strict=True)):
        raise ExerciseError(
            "D's weights changed: the generator step only steps opt_g. D passes the "
            "gradient back to G's images (D.backward) but its own weights stay as "
            "they are; stepping D here would train D to help G."
        )
    g_after = [param for param, _ in generator.parameters()]
    if all(np.array_equal(a, b) for a, b in zip(g_after, g_before, strict=True)):
        raise ExerciseError(
            "G's weights did not change: after the backward pass, call opt_g.step()."
        )

    def matches(params):
        return all(np.allclose(a, b) for a, b in zip(g_after, params, strict=True))

    if not matches(want):
        _, with_stale = _reference_step(
            _with_weights(generator, g_before), discriminator, noise, lr,
            "non-saturating", stale=stale,
        )  # fmt: skip
        if matches(with_stale):
            raise ExerciseError(
                "G's gradients from an earlier step were still in G's grads: backward "
                "adds into them, so call opt_g.zero_grad() before G's backward pass."
            )
        variants = {
            "minimax": (
                "that is the minimax loss, minimising log(1 - D(G(z))): its gradient "
                "vanishes when D confidently calls the samples fake (D(G(z)) = 0.05 "
                "here). Use the non-saturating loss, BCE(D's logits, 1) = "
                "-log D(G(z))."
            ),
            "wrong way": (
                "G moved to make D *more* sure its samples are fake: G wants D's "
                "logits for its samples to rise, so use target 1 (real), not 0."
            ),
        }
        for kind, message in variants.items():
            start = _with_weights(generator, g_before)
            if matches(_reference_step(start, discriminator, noise, lr, kind)[1]):
                raise ExerciseError(message)
        raise ExerciseError(
            "G's new weights are not those of one non-saturating step: generate "
            "fake = G(noise), score it with D, take BCE(logits, 1) and its gradient, "
            "backpropagate through D (D.backward) and then G, and step opt_g."
        )
    if loss is None or not np.isclose(float(loss), want_loss):
        raise ExerciseError(
            f"the update is right; now return G's loss, BCE(logits, 1) = "
            f"{want_loss:.4f} here, got {loss}."
        )
    print("Correct: G stepped on the non-saturating loss; D's weights are untouched.")


def _with_weights(generator: Sequential, params: list[np.ndarray]) -> Sequential:
    """A copy of `generator` with its weights set to `params`."""
    twin = copy.deepcopy(generator)
    for (param, _), value in zip(twin.parameters(), params, strict=True):
        param[...] = value
    return twin
