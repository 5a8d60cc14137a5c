"""Checks for notebook 04's exercises: D's loss, and one step of the generator."""

from __future__ import annotations

import copy

import numpy as np

from gancourse.checks.coerce import as_array, as_float
from gancourse.checks.compare import Mistake, close, first_mistake
from gancourse.checks.core import ExerciseError, call_student
from gancourse.checks.reference import bce_with_logits_numpy, sigmoid
from gancourse.nn_numpy import SGD, Dense, LeakyReLU, Sequential, Tanh


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
    loss = as_float(out[0], "the loss")
    grad_real = as_array(out[1], "grad_real", logits_real.shape, like="logits_real")
    grad_fake = as_array(out[2], "grad_fake", logits_fake.shape, like="logits_fake")

    loss_real, want_real = bce_with_logits_numpy(logits_real, 1.0)
    loss_fake, want_fake = bce_with_logits_numpy(logits_fake, 0.0)
    want_loss = loss_real + loss_fake
    summed = (
        "you summed over the batch instead of averaging: take the mean over "
        "each batch, so the gradient of each logit is (sigmoid(z) - target) / N."
    )
    mistakes = [
        Mistake(
            "the labels are swapped: real images have target 1 and generated ones "
            "target 0, so the loss is BCE(logits_real, 1) + BCE(logits_fake, 0).",
            bce_with_logits_numpy(logits_real, 0.0)[0]
            + bce_with_logits_numpy(logits_fake, 1.0)[0],
        ),
        Mistake(
            "you applied a sigmoid before BCE-with-logits: bce_with_logits takes "
            "the raw logits and applies the sigmoid itself (stably). Pass the "
            "logits straight in.",
            bce_with_logits_numpy(sigmoid(logits_real), 1.0)[0]
            + bce_with_logits_numpy(sigmoid(logits_fake), 0.0)[0],
        ),
        Mistake(summed, len(logits_real) * loss_real + len(logits_fake) * loss_fake),
    ]
    message = first_mistake(loss, mistakes, expected=want_loss) or first_mistake(
        grad_real, [Mistake(summed, want_real * len(logits_real))]
    )
    if message:
        raise ExerciseError(message)
    averaged = close(loss, want_loss / 2)  # a valid convention: see the note below
    if averaged:
        want_loss, want_real, want_fake = want_loss / 2, want_real / 2, want_fake / 2
        if close(grad_real, 2 * want_real) and close(grad_fake, 2 * want_fake):
            raise ExerciseError(
                "the loss is the mean of the real and the fake loss, but the "
                "gradients are those of their sum: halve the gradients too, or "
                "(as the course does) add the two losses without halving."
            )
    if not close(loss, want_loss):
        raise ExerciseError(
            f"the loss should be {want_loss:.4f} for these logits, got {loss:.4f}: "
            "it is -mean(log D(x)) - mean(log(1 - D(G(z))))."
        )
    for name, got, want in (
        ("grad_real", grad_real, want_real),
        ("grad_fake", grad_fake, want_fake),
    ):
        if not close(got, want):
            sign = Mistake(
                f"{name} has the wrong sign: it is (sigmoid(z) - target) / N, the "
                "direction that increases the loss.",
                -want,
            )
            raise ExerciseError(
                first_mistake(got, [sign])
                or f"the loss is right but {name} is not: for each logit z it is "
                "(sigmoid(z) - target) / N, N the size of that batch."
            )
    if averaged:
        print(_MEAN_NOTE)
    print("Correct: D's loss is BCE(real, 1) + BCE(fake, 0), each averaged.")


_MEAN_NOTE = (
    "Note: you average the real and the fake loss, (BCE(real, 1) + BCE(fake, 0)) / "
    "2. That is a valid convention (pix2pix uses it): it halves every gradient, as "
    "halving D's learning rate would, and trains D the same way otherwise. The "
    "course adds the two terms, as in the formula."
)


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
        loss, grad = bce_with_logits_numpy(logits, 1.0)
    elif kind == "minimax":
        loss, grad = bce_with_logits_numpy(logits, 0.0)
        loss, grad = -loss, -grad
    else:  # "wrong way": D's own target 0 for fakes, minimised by G
        loss, grad = bce_with_logits_numpy(logits, 0.0)
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

    if not close(g_after, want):
        start = _with_weights(generator, g_before)
        mistakes = [
            Mistake(
                "G's gradients from an earlier step were still in G's grads: backward "
                "adds into them, so call opt_g.zero_grad() before G's backward pass.",
                _reference_step(
                    start, discriminator, noise, lr, "non-saturating", stale=stale
                )[1],
            ),
            Mistake(
                "that is the minimax loss, minimising log(1 - D(G(z))): its gradient "
                "vanishes when D confidently calls the samples fake (D(G(z)) = 0.05 "
                "here). Use the non-saturating loss, BCE(D's logits, 1) = "
                "-log D(G(z)).",
                _reference_step(start, discriminator, noise, lr, "minimax")[1],
            ),
            Mistake(
                "G moved to make D *more* sure its samples are fake: G wants D's "
                "logits for its samples to rise, so use target 1 (real), not 0.",
                _reference_step(start, discriminator, noise, lr, "wrong way")[1],
            ),
        ]
        raise ExerciseError(
            first_mistake(g_after, mistakes)
            or "G's new weights are not those of one non-saturating step: generate "
            "fake = G(noise), score it with D, take BCE(logits, 1) and its gradient, "
            "backpropagate through D (D.backward) and then G, and step opt_g."
        )
    if loss is None or not close(as_float(loss, "G's loss"), want_loss):
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
