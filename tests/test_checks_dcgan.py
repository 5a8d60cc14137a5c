"""Notebook 05's checks pass the right D and G steps and name each usual mistake."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checks.core import ExerciseError
from gancourse.checks.dcgan import check_d_step, check_g_step

pytestmark = pytest.mark.usefixtures("one_thread")  # tiny models, busy machine


def stub(*args):
    raise NotImplementedError


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _update(optimizer, loss):
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def d_step(G, D, opt_d, real, z):
    fake = G(z)
    loss = _bce(D(real), 1.0) + _bce(D(fake.detach()), 0.0)
    _update(opt_d, loss)
    return loss


def d_step_no_grad(G, D, opt_d, real, z):
    with torch.no_grad():
        fake = G(z)
    real_logits, fake_logits = D(real), D(fake)
    ones = torch.ones(len(real), device=real.device, dtype=real_logits.dtype)
    loss = F.binary_cross_entropy_with_logits(real_logits, ones)
    loss = loss + F.binary_cross_entropy_with_logits(
        fake_logits, torch.zeros_like(fake_logits)
    )
    D.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def d_step_freezes_g(G, D, opt_d, real, z):
    G.requires_grad_(False)  # no graph through G, and G unfrozen afterwards
    try:
        return d_step(G, D, opt_d, real, z)
    finally:
        G.requires_grad_(True)


def d_step_targets_on_the_cpu(G, D, opt_d, real, z):
    """Right on a CPU; on a GPU the targets sit on the CPU next to CUDA logits."""
    fake = G(z).detach()
    loss = F.binary_cross_entropy_with_logits(D(real), torch.ones(len(real)))
    loss = loss + F.binary_cross_entropy_with_logits(D(fake), torch.zeros(len(z)))
    _update(opt_d, loss)
    return loss


def d_step_targets_without_dtype(G, D, opt_d, real, z):
    fake = G(z).detach()
    real_logits, fake_logits = D(real), D(fake)
    ones = torch.ones(len(real), device=real.device)  # float32 whatever D's dtype
    zeros = torch.zeros(len(z), device=z.device)
    loss = F.binary_cross_entropy_with_logits(real_logits, ones)
    loss = loss + F.binary_cross_entropy_with_logits(fake_logits, zeros)
    _update(opt_d, loss)
    return loss


def d_step_hides_the_backward_through_g(G, D, opt_d, real, z):
    loss = _bce(D(real), 1.0) + _bce(D(G(z)), 0.0)  # no detach ...
    _update(opt_d, loss)
    G.zero_grad()  # ... and G's gradients zeroed so that nothing shows
    return loss


def d_step_hides_it_with_none(G, D, opt_d, real, z):
    loss = _bce(D(real), 1.0) + _bce(D(G(z)), 0.0)
    _update(opt_d, loss)
    for p in G.parameters():
        p.grad = None
    return loss


def d_step_leaves_g_frozen(G, D, opt_d, real, z):
    G.requires_grad_(False)
    return d_step(G, D, opt_d, real, z)


def d_step_returns_the_mean_steps_the_sum(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = _bce(D(real), 1.0) + _bce(D(fake), 0.0)
    _update(opt_d, loss)
    return loss / 2


def d_step_no_detach(G, D, opt_d, real, z):
    loss = _bce(D(real), 1.0) + _bce(D(G(z)), 0.0)
    _update(opt_d, loss)
    return loss


def d_step_sigmoid_first(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = _bce(torch.sigmoid(D(real)), 1.0) + _bce(torch.sigmoid(D(fake)), 0.0)
    _update(opt_d, loss)
    return loss


def d_step_bce_loss_on_logits(G, D, opt_d, real, z):
    fake = G(z).detach()
    real_logits, fake_logits = D(real), D(fake)
    loss = nn.BCELoss()(real_logits, torch.ones_like(real_logits))
    loss = loss + nn.BCELoss()(fake_logits, torch.zeros_like(fake_logits))
    _update(opt_d, loss)
    return loss


def d_step_sigmoid_and_bce_loss(G, D, opt_d, real, z):
    """The PyTorch DCGAN tutorial's Sigmoid + BCELoss: right until D is confident."""
    fake = G(z).detach()
    real_p, fake_p = torch.sigmoid(D(real)), torch.sigmoid(D(fake))
    loss = F.binary_cross_entropy(real_p, torch.ones_like(real_p))
    loss = loss + F.binary_cross_entropy(fake_p, torch.zeros_like(fake_p))
    _update(opt_d, loss)
    return loss


def d_step_log_sigmoid_by_hand(G, D, opt_d, real, z):
    fake = G(z).detach()
    real_p, fake_p = torch.sigmoid(D(real)), torch.sigmoid(D(fake))
    loss = -(torch.log(real_p).mean() + torch.log(1 - fake_p).mean())
    _update(opt_d, loss)
    return loss


def d_step_swapped(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = _bce(D(real), 0.0) + _bce(D(fake), 1.0)
    _update(opt_d, loss)
    return loss


def d_step_swapped_reports_right_loss(G, D, opt_d, real, z):
    fake = G(z).detach()
    right = _bce(D(real), 1.0) + _bce(D(fake), 0.0)
    loss = _bce(D(real), 0.0) + _bce(D(fake), 1.0)
    _update(opt_d, loss)
    return right


def d_step_ascent(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = -(_bce(D(real), 1.0) + _bce(D(fake), 0.0))
    _update(opt_d, loss)
    return loss


def d_step_averaged(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = (_bce(D(real), 1.0) + _bce(D(fake), 0.0)) / 2
    _update(opt_d, loss)
    return loss


def d_step_real_only(G, D, opt_d, real, z):
    loss = _bce(D(real), 1.0)
    _update(opt_d, loss)
    return loss


def d_step_one_batch(G, D, opt_d, real, z):
    fake = G(z).detach()
    logits = D(torch.cat([real, fake]))
    loss = _bce(logits[: len(real)], 1.0) + _bce(logits[len(real) :], 0.0)
    _update(opt_d, loss)
    return loss


def d_step_no_zero_grad(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = _bce(D(real), 1.0) + _bce(D(fake), 0.0)
    loss.backward()
    opt_d.step()
    return loss


def d_step_no_step(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = _bce(D(real), 1.0) + _bce(D(fake), 0.0)
    opt_d.zero_grad()
    loss.backward()
    return loss


def d_step_zero_grad_after_backward(G, D, opt_d, real, z):
    fake = G(z).detach()
    loss = _bce(D(real), 1.0) + _bce(D(fake), 0.0)
    loss.backward()
    opt_d.zero_grad()
    opt_d.step()
    return loss


def d_step_no_return(G, D, opt_d, real, z):
    d_step(G, D, opt_d, real, z)


def d_step_per_sample_loss(G, D, opt_d, real, z):
    d_step(G, D, opt_d, real, z)
    return torch.ones(len(real))


@pytest.mark.parametrize("answer", [d_step, d_step_no_grad, d_step_freezes_g])
def test_d_step_check_accepts_right_answers(answer, capsys):
    check_d_step(answer)
    out = capsys.readouterr().out
    assert "Correct" in out and "Note" not in out


def test_d_step_check_accepts_the_mean_of_the_two_terms_with_a_note(capsys):
    check_d_step(d_step_averaged)
    out = capsys.readouterr().out
    assert "Note: your loss is the mean of the real and the fake term" in out
    assert "valid convention" in out and "Correct" in out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (d_step_no_detach, r"fake\.detach\(\)"),
        (d_step_sigmoid_first, "applied a sigmoid before"),
        (d_step_bce_loss_on_logits, "expects probabilities"),
        (d_step_sigmoid_and_bce_loss, "sigmoid rounds to exactly 1"),
        (d_step_log_sigmoid_by_hand, "log\\(0\\)"),
        (d_step_swapped, "labels swapped"),
        (d_step_swapped_reports_right_loss, "labels swapped"),
        (d_step_ascent, "sign is flipped"),
        (d_step_returns_the_mean_steps_the_sum, "update is that of their sum"),
        (d_step_targets_on_the_cpu, "would fail on a GPU.*device=x.device"),
        (d_step_targets_without_dtype, "float32 result for float64 inputs"),
        (d_step_hides_the_backward_through_g, "backpropagated into G's weights"),
        (d_step_hides_it_with_none, "backpropagated into G's weights"),
        (d_step_leaves_g_frozen, "G's weights are left frozen"),
        (d_step_real_only, "only one of its two terms"),
        (d_step_one_batch, "separately"),
        (d_step_no_zero_grad, r"opt_d\.zero_grad\(\) before"),
        (d_step_no_step, "did not change"),
        (d_step_zero_grad_after_backward, "did not change"),
        (d_step_no_return, "returns nothing"),
        (d_step_per_sample_loss, "one number"),
    ],
)
def test_d_step_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_d_step(answer)


def g_step(G, D, opt_g, z):
    loss = _bce(D(G(z)), 1.0)
    _update(opt_g, loss)
    return loss


def g_step_frozen_d(G, D, opt_g, z):
    D.requires_grad_(False)
    try:
        logits = D(G(z))
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        _update(opt_g, loss)
    finally:
        D.requires_grad_(True)
    return loss.item()


def g_step_minimax(G, D, opt_g, z):
    loss = -F.softplus(D(G(z))).mean()  # mean log(1 - D(G(z)))
    _update(opt_g, loss)
    return loss


def g_step_minimax_by_hand(G, D, opt_g, z):
    loss = torch.log(1 - torch.sigmoid(D(G(z)))).mean()
    _update(opt_g, loss)
    return loss


def g_step_updates_d(G, D, opt_g, z):
    loss = g_step(G, D, opt_g, z)
    torch.optim.SGD(D.parameters(), lr=0.01).step()  # D's grads from G's loss
    return loss


def g_step_one_optimizer_for_both(G, D, opt_g, z):
    both = torch.optim.SGD([*G.parameters(), *D.parameters()], lr=0.1)
    loss = _bce(D(G(z)), 1.0)
    _update(both, loss)
    return loss


def g_step_leaves_d_frozen(G, D, opt_g, z):
    D.requires_grad_(False)
    return g_step(G, D, opt_g, z)


def g_step_detached(G, D, opt_g, z):
    loss = _bce(D(G(z).detach()), 1.0)
    _update(opt_g, loss)
    return loss


def g_step_target_zero(G, D, opt_g, z):
    loss = _bce(D(G(z)), 0.0)
    _update(opt_g, loss)
    return loss


def g_step_sign(G, D, opt_g, z):
    loss = -_bce(D(G(z)), 1.0)
    _update(opt_g, loss)
    return loss


def g_step_sigmoid_first(G, D, opt_g, z):
    loss = _bce(torch.sigmoid(D(G(z))), 1.0)
    _update(opt_g, loss)
    return loss


def g_step_sigmoid_and_bce_loss(G, D, opt_g, z):
    probability = torch.sigmoid(D(G(z)))
    loss = F.binary_cross_entropy(probability, torch.ones_like(probability))
    _update(opt_g, loss)
    return loss


def g_step_log_sigmoid_by_hand(G, D, opt_g, z):
    loss = -torch.log(torch.sigmoid(D(G(z)))).mean()
    _update(opt_g, loss)
    return loss


def g_step_no_zero_grad(G, D, opt_g, z):
    loss = _bce(D(G(z)), 1.0)
    loss.backward()
    opt_g.step()
    return loss


def g_step_target_on_the_cpu(G, D, opt_g, z):
    logits = D(G(z))
    loss = F.binary_cross_entropy_with_logits(logits, torch.ones(len(z)))
    _update(opt_g, loss)
    return loss


def g_step_no_step(G, D, opt_g, z):
    loss = _bce(D(G(z)), 1.0)
    opt_g.zero_grad()
    loss.backward()
    return loss


@pytest.mark.parametrize("answer", [g_step, g_step_frozen_d])
def test_g_step_check_accepts_right_answers(answer, capsys):
    check_g_step(answer)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (g_step_minimax, "minimax"),
        (g_step_minimax_by_hand, "minimax"),
        (g_step_updates_d, "D's weights changed"),
        (g_step_one_optimizer_for_both, "D's weights changed"),
        (g_step_leaves_d_frozen, "left frozen"),
        (g_step_detached, "without .detach"),
        (g_step_no_step, "did not change"),
        (g_step_target_zero, "target 0"),
        (g_step_sign, "sign is flipped"),
        (g_step_sigmoid_first, "applied a sigmoid before"),
        (g_step_sigmoid_and_bce_loss, "rounds to exactly 0"),
        (g_step_log_sigmoid_by_hand, "log\\(0\\)"),
        (g_step_no_zero_grad, r"opt_g\.zero_grad\(\) before"),
        (g_step_target_on_the_cpu, "would fail on a GPU.*device=x.device"),
    ],
)
def test_g_step_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_g_step(answer)


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_d_step(d_step)
    check_g_step(g_step)
    assert torch.equal(torch.rand(3), expected)
