"""Notebook 04's checks pass the right answer and name each usual mistake."""

import numpy as np
import pytest

from gancourse.checks.core import ExerciseError
from gancourse.checks.numpy_gan_images import (
    check_discriminator_loss,
    check_generator_step,
)
from gancourse.nn_numpy import bce_with_logits


def stub(*args):
    raise NotImplementedError


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def d_loss(real, fake):
    loss_real, grad_real = bce_with_logits(real, np.ones_like(real))
    loss_fake, grad_fake = bce_with_logits(fake, np.zeros_like(fake))
    return loss_real + loss_fake, grad_real, grad_fake


def d_loss_swapped(real, fake):
    loss_real, grad_real = bce_with_logits(real, np.zeros_like(real))
    loss_fake, grad_fake = bce_with_logits(fake, np.ones_like(fake))
    return loss_real + loss_fake, grad_real, grad_fake


def d_loss_sigmoid_first(real, fake):
    return d_loss(_sigmoid(real), _sigmoid(fake))


def d_loss_summed(real, fake):
    loss, grad_real, grad_fake = d_loss(real, fake)
    loss = len(real) * bce_with_logits(real, 1.0)[0]
    loss += len(fake) * bce_with_logits(fake, 0.0)[0]
    return loss, grad_real * len(real), grad_fake * len(fake)


def d_loss_halved(real, fake):
    loss, grad_real, grad_fake = d_loss(real, fake)
    return loss / 2, grad_real / 2, grad_fake / 2


def d_loss_wrong_sign(real, fake):
    loss, grad_real, grad_fake = d_loss(real, fake)
    return loss, -grad_real, -grad_fake


def d_loss_in_place(real, fake):
    out = d_loss(real, fake)
    real += 1
    return out


def d_loss_halved_loss_only(real, fake):
    loss, grad_real, grad_fake = d_loss(real, fake)
    return loss / 2, grad_real, grad_fake


def test_discriminator_loss_check_accepts_the_solution(capsys):
    check_discriminator_loss(d_loss)
    out = capsys.readouterr().out
    assert "Correct" in out and "Note" not in out


def test_discriminator_loss_check_accepts_the_mean_of_the_two_terms_with_a_note(
    capsys,
):
    check_discriminator_loss(d_loss_halved)
    out = capsys.readouterr().out
    assert "Note: you average the real and the fake loss" in out
    assert "valid convention" in out and "Correct" in out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (d_loss_swapped, "labels are swapped"),
        (d_loss_sigmoid_first, "sigmoid before BCE-with-logits"),
        (d_loss_summed, "summed over the batch"),
        (d_loss_halved_loss_only, "halve the gradients too"),
        (d_loss_wrong_sign, "wrong sign"),
        (d_loss_in_place, "changed the logits"),
        (lambda real, fake: d_loss(real, fake)[0], "return three things"),
        (lambda real, fake: (1.0, real, fake), "loss should be"),
        (lambda real, fake: d_loss(real, fake)[:2] + (fake[:2],), "shape"),
    ],
)
def test_discriminator_loss_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_discriminator_loss(answer)


def g_step(generator, discriminator, opt_g, noise):
    logits = discriminator(generator(noise))
    loss, grad = bce_with_logits(logits, np.ones_like(logits))
    opt_g.zero_grad()
    generator.backward(discriminator.backward(grad))
    opt_g.step()
    discriminator.zero_grad()
    return loss


def g_step_no_zero_grad(generator, discriminator, opt_g, noise):
    logits = discriminator(generator(noise))
    loss, grad = bce_with_logits(logits, np.ones_like(logits))
    generator.backward(discriminator.backward(grad))
    opt_g.step()
    return loss


def g_step_minimax(generator, discriminator, opt_g, noise):
    logits = discriminator(generator(noise))
    loss, grad = bce_with_logits(logits, np.zeros_like(logits))
    opt_g.zero_grad()
    generator.backward(discriminator.backward(-grad))
    opt_g.step()
    return -loss


def g_step_wrong_way(generator, discriminator, opt_g, noise):
    logits = discriminator(generator(noise))
    loss, grad = bce_with_logits(logits, np.zeros_like(logits))
    opt_g.zero_grad()
    generator.backward(discriminator.backward(grad))
    opt_g.step()
    return loss


def g_step_also_steps_d(generator, discriminator, opt_g, noise):
    loss = g_step(generator, discriminator, opt_g, noise)
    for param, grad in discriminator.parameters():
        param -= 0.1 * (grad + 1)  # as if an optimiser of D had stepped
    return loss


def g_step_no_step(generator, discriminator, opt_g, noise):
    logits = discriminator(generator(noise))
    opt_g.zero_grad()
    generator.backward(discriminator.backward(logits))
    return 0.0


def g_step_no_return(generator, discriminator, opt_g, noise):
    g_step(generator, discriminator, opt_g, noise)


def test_generator_step_check_accepts_the_solution(capsys):
    check_generator_step(g_step)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (g_step_no_zero_grad, "zero_grad"),
        (g_step_minimax, "minimax loss"),
        (g_step_wrong_way, "more\\* sure"),
        (g_step_also_steps_d, "D's weights changed"),
        (g_step_no_step, "did not change"),
        (g_step_no_return, "return G's loss"),
        (lambda g, d, opt, z: d.backward(g(z)), "raised ValueError"),
    ],
)
def test_generator_step_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_generator_step(answer)
