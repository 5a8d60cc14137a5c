"""Notebook 07's checks pass the right answers and name the usual mistakes."""

import pytest
import torch
import torch.nn.functional as F

from gancourse.checks.core import ExerciseError
from gancourse.checks.wgan_and_wgan_gp import (
    check_critic_step,
    check_generator_loss,
    check_gradient_penalty,
)
from gancourse.losses import gradient_penalty as library_penalty

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models, busy machine


def stub(*args):
    raise NotImplementedError


# ---------------------------------------------------------------- G's loss


def generator_loss(fake_scores):
    return -fake_scores.mean()


def test_generator_loss_check_accepts_the_solution(capsys):
    check_generator_loss(generator_loss)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda s: s.mean(), "sign is flipped"),
        (
            lambda s: F.binary_cross_entropy_with_logits(s, torch.ones_like(s)),
            "no sigmoid",
        ),
        (lambda s: -torch.sigmoid(s).mean(), "no sigmoid"),
        (lambda s: -s.sum(), "not a sum"),
        (lambda s: -s, "average over the batch"),
        (lambda s: -s.mean().item(), "as a torch tensor"),
        (lambda s: -s.detach().mean(), "detached"),
        (lambda s: None, "returns nothing"),
        (lambda s: -s.mean() + 1, "you give"),
        (lambda s: -s.sum() / 5, "right for 5 scores but not for the 3 scores"),
        (lambda s: -(s * torch.ones(len(s))).mean(), "would fail on a GPU"),
        (lambda s: -torch.zeros(1).add(s.mean()).sum(), "float32 for float64 scores"),
    ],
)
def test_generator_loss_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_generator_loss(answer)


# ---------------------------------------------------------------- WGAN critic step


def _clamp(critic, clip):
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-clip, clip)


def critic_step(critic, optimizer, real, fake, clip):
    loss = critic(fake.detach()).mean() - critic(real).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    _clamp(critic, clip)
    return loss.item()


def test_critic_step_check_accepts_the_solution(capsys):
    check_critic_step(critic_step)
    assert "Correct" in capsys.readouterr().out


def test_critic_step_check_accepts_a_tensor_loss_and_the_library_clip(capsys):
    from gancourse.losses import clip_weights

    def tensor_loss(critic, optimizer, real, fake, clip):
        loss = -(critic(real).mean() - critic(fake.detach()).mean())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        clip_weights(critic, clip)
        return loss

    check_critic_step(tensor_loss)
    assert "Correct" in capsys.readouterr().out


def clip_before(critic, optimizer, real, fake, clip):
    _clamp(critic, clip)
    loss = critic(fake.detach()).mean() - critic(real).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def no_clip(critic, optimizer, real, fake, clip):
    loss = critic(fake.detach()).mean() - critic(real).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_on(loss_of):
    def step(critic, optimizer, real, fake, clip):
        loss = loss_of(critic(real), critic(fake.detach()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        _clamp(critic, clip)
        return loss.item()

    return step


def bce(real_scores, fake_scores):
    return F.binary_cross_entropy_with_logits(
        real_scores, torch.ones_like(real_scores)
    ) + F.binary_cross_entropy_with_logits(fake_scores, torch.zeros_like(fake_scores))


def no_step(critic, optimizer, real, fake, clip):
    loss = critic(fake.detach()).mean() - critic(real).mean()
    optimizer.zero_grad()
    loss.backward()
    _clamp(critic, clip)
    return loss.item()


def no_zero_grad(critic, optimizer, real, fake, clip):
    loss = critic(fake.detach()).mean() - critic(real).mean()
    loss.backward()
    optimizer.step()
    _clamp(critic, clip)
    return loss.item()


def fixed_clip(critic, optimizer, real, fake, clip):
    return critic_step(critic, optimizer, real, fake, 0.01)


def no_detach(critic, optimizer, real, fake, clip):
    loss = critic(fake).mean() - critic(real).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    _clamp(critic, clip)
    return loss.item()


def returns_flipped_loss(critic, optimizer, real, fake, clip):
    return -critic_step(critic, optimizer, real, fake, clip)


def returns_loss_after_step(critic, optimizer, real, fake, clip):
    critic_step(critic, optimizer, real, fake, clip)
    with torch.no_grad():
        return (critic(fake).mean() - critic(real).mean()).item()


def double_step(critic, optimizer, real, fake, clip):
    critic_step(critic, optimizer, real, fake, clip)
    return critic_step(critic, optimizer, real, fake, clip)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (clip_before, "clip before optimizer.step"),
        (no_clip, "not clipped"),
        (_step_on(lambda r, f: r.mean() - f.mean()), "sign is flipped"),
        (_step_on(bce), "no sigmoid and no BCE"),
        (
            _step_on(lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean()),
            "no sigmoid and no BCE",
        ),
        (no_step, "call optimizer.step"),
        (no_zero_grad, "zero_grad"),
        (fixed_clip, "not a fixed number"),
        (no_detach, "detach"),
        (returns_flipped_loss, "returned loss has the wrong sign"),
        (returns_loss_after_step, "before the step"),
        (lambda c, o, r, f, clip: critic_step(c, o, r, f, clip) and None, "nothing"),
        (double_step, "not those of one"),
    ],
)
def test_critic_step_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_critic_step(answer)


# ---------------------------------------------------------------- gradient penalty


def _eps_shape(real):
    return (real.shape[0],) + (1,) * (real.ndim - 1)  # (N, 1, 1, 1) or (N, 1)


def penalty(critic, real, fake):
    eps = torch.rand(_eps_shape(real), dtype=real.dtype, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


def test_penalty_check_accepts_the_solution(capsys):
    check_gradient_penalty(penalty)
    assert "Correct" in capsys.readouterr().out


def test_penalty_check_accepts_the_other_interpolation_order(capsys):
    def other_order(critic, real, fake):
        eps = torch.rand(len(real), dtype=real.dtype, device=real.device)  # (N,)
        eps = eps.view(_eps_shape(real))
        x_hat = (eps * fake.detach() + (1 - eps) * real).requires_grad_(True)
        scores = critic(x_hat)
        (grads,) = torch.autograd.grad(
            scores, x_hat, grad_outputs=torch.ones_like(scores), create_graph=True
        )
        return ((grads.reshape(len(real), -1).norm(2, dim=1) - 1) ** 2).mean()

    check_gradient_penalty(other_order)
    assert "Correct" in capsys.readouterr().out


def test_penalty_check_accepts_the_library_penalty_of_the_course(capsys):
    check_gradient_penalty(library_penalty)
    assert "Correct" in capsys.readouterr().out


def _penalty_with(
    eps_of=lambda real: torch.rand(_eps_shape(real), dtype=real.dtype),
    norm_of=lambda grads: grads.flatten(1).norm(dim=1),
    penalty_of=lambda norms: (norms - 1) ** 2,
    reduce=torch.mean,
    create_graph=True,
    detach=True,
):
    """The penalty with one step done a given (right or wrong) way."""

    def answer(critic, real, fake):
        eps = eps_of(real)
        x_hat = eps * real + (1 - eps) * (fake.detach() if detach else fake)
        x_hat = x_hat.requires_grad_(True)
        (grads,) = torch.autograd.grad(
            critic(x_hat).sum(), x_hat, create_graph=create_graph
        )
        return reduce(penalty_of(norm_of(grads)))

    return answer


def flattened_as_square(critic, real, fake):
    def norm_of(grads):
        if grads.ndim == 2:
            return grads.norm(dim=1)
        n, c, h, _ = grads.shape
        return grads.reshape(n, c * h * h).norm(dim=1)

    return _penalty_with(norm_of=norm_of)(critic, real, fake)


def hard_coded_image_eps(critic, real, fake):
    return _penalty_with(
        eps_of=lambda real: torch.rand(real.shape[0], 1, 1, 1, dtype=real.dtype)
    )(critic, real, fake)


def with_backward(critic, real, fake):
    eps = torch.rand(_eps_shape(real), dtype=real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    critic(x_hat).sum().backward(create_graph=True)
    return ((x_hat.grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def at_real(critic, real, fake):
    x = real.clone().requires_grad_(True)
    (grads,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return ((grads.flatten(1).norm(dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (
            _penalty_with(eps_of=lambda real: torch.rand_like(real)),
            "different interpolation weight at each pixel",
        ),
        (_penalty_with(eps_of=lambda real: torch.rand(())), "the same interpolation"),
        (
            _penalty_with(eps_of=lambda real: 1 + torch.rand(_eps_shape(real))),
            "in \\[0, 1\\]",
        ),
        (at_real, "the real \\(or fake\\) samples"),
        (_penalty_with(norm_of=lambda g: g.norm(2, dim=1)), "wrong dimensions"),
        (_penalty_with(norm_of=lambda g: g.flatten(2).norm(dim=2)), "wrong dimension"),
        (
            _penalty_with(norm_of=lambda g: g.norm().expand(len(g))),
            "whole batch",
        ),
        (_penalty_with(penalty_of=lambda n: n**2), "squared norm"),
        (_penalty_with(penalty_of=lambda n: (n**2 - 1) ** 2), "squared norm"),
        (_penalty_with(penalty_of=lambda n: n - 1), "square the difference"),
        (_penalty_with(reduce=torch.sum), "not a sum"),
        (
            _penalty_with(penalty_of=lambda n: torch.clamp(n - 1, min=0) ** 2),
            "two-sided",
        ),
        (_penalty_with(create_graph=False), "create_graph=True"),
        (_penalty_with(reduce=lambda x: x), "average over the batch"),
        (_penalty_with(reduce=lambda x: x.mean().item()), "torch tensor"),
        (hard_coded_image_eps, "\\(N, 1\\) for 2D points"),
        (_penalty_with(detach=False), "still carries G's graph.*fake.detach"),
        (_penalty_with(), "would fail on a GPU.*device=x.device"),  # eps on the CPU
        (flattened_as_square, "shape \\(6, 3, 4, 5\\).*any height and width"),
        pytest.param(
            with_backward,
            "left gradients in the critic",
            marks=pytest.mark.filterwarnings("ignore:Using backward"),
        ),
    ],
)
def test_penalty_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_gradient_penalty(answer)


def test_penalty_check_sees_a_detached_norm_on_a_nonlinear_critic():
    def detached_after_norm(critic, real, fake):
        out = penalty(critic, real, fake)
        w = getattr(critic, "w", None)
        if w is not None:  # fool the linear stages, fail on the conv critic
            return out
        return out.detach().requires_grad_(True)

    with pytest.raises(ExerciseError, match="gradient for the critic's weights"):
        check_gradient_penalty(detached_after_norm)
