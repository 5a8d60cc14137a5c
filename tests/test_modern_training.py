"""GANTrainer with the modern recipe's parts: the relativistic loss, R1/R2 and
DiffAugment, checked against the same step computed by hand."""

import math

import pytest
import torch

from gancourse.errors import GancourseError
from gancourse.losses import g_loss, relativistic_d_loss, zero_centred_penalty
from gancourse.training import GANTrainer
from tests.test_training import make

pytestmark = pytest.mark.usefixtures("one_thread")
MODERN = {"loss": "relativistic", "r1_gamma": 2.0, "r2_gamma": 0.5}


def test_the_first_d_loss_is_the_pairing_loss_plus_half_gamma_penalties(mnist):
    trainer = make(mnist, **MODERN)
    by_hand = make(mnist, **MODERN)  # the same seed: the same weights, data, noise
    real, _ = by_hand.next_batch()
    z, _ = by_hand.noise(len(real))
    fake = by_hand.G(z).detach()
    real_logits, fake_logits = by_hand.D(real), by_hand.D(fake)
    expected = (
        relativistic_d_loss(real_logits, fake_logits)
        + 2.0 / 2 * zero_centred_penalty(by_hand.D, real)
        + 0.5 / 2 * zero_centred_penalty(by_hand.D, fake)
    )
    trainer.train_step()
    assert trainer.history["loss_d"][0] == pytest.approx(expected.item(), rel=1e-5)
    assert trainer.history["r1"][0] > 0 and trainer.history["r2"][0] > 0


def test_the_relativistic_g_loss_needs_real_scores():
    with pytest.raises(GancourseError, match="pass real_logits"):
        g_loss("relativistic", torch.zeros(4))


def d_inputs(trainer):
    """Every image batch D is given during one training step."""
    seen = []
    hook = trainer.D.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    trainer.train_step()
    hook.remove()
    return seen


def zero_share(batch):
    """The smallest share of exact zeros in any one image of the batch."""
    return (batch == 0).flatten(1).float().mean(1).min().item()


def test_diff_augment_reaches_every_image_d_sees_in_both_steps(mnist):
    plain = d_inputs(make(mnist))
    cut = d_inputs(make(mnist, augment="cutout"))
    assert len(cut) == len(plain) == 3  # real and fake in D's update, fake in G's
    assert all(zero_share(batch) < 0.01 for batch in plain)
    # a cutout box is half the side, so at least a quarter of it lies inside
    assert all(zero_share(batch) >= 0.06 for batch in cut)


def test_a_modern_run_resumes_exactly(mnist, tmp_path):
    settings = {**MODERN, "augment": "color,translation,cutout"}
    whole = make(mnist, **settings).fit(steps=4)
    half = make(mnist, **settings).fit(steps=2)
    resumed = GANTrainer.resume(half.save(tmp_path / "half.pt"), mnist, progress=False)
    resumed.fit(steps=2)
    for key, value in whole.G.state_dict().items():
        assert torch.equal(value, resumed.G.state_dict()[key]), key
    assert whole.history["loss_d"] == resumed.history["loss_d"]


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"r1_gamma": -1.0}, "r1_gamma must be"),
        ({"r2_gamma": "1"}, "r2_gamma must be"),
        ({"augment": "flip"}, "DiffAugment policy"),
        ({"loss": "relativist"}, "unknown loss"),
    ],
)
def test_bad_modern_settings_are_one_clear_error(mnist, setting, match):
    with pytest.raises(GancourseError, match=match):
        make(mnist, **setting)


def test_lazy_penalties_come_every_kth_step_k_times_as_heavy(mnist):
    lazy = {**MODERN, "penalty_every": 3}
    trainer = make(mnist, **lazy)
    by_hand = make(mnist, **lazy)
    real, _ = by_hand.next_batch()
    z, _ = by_hand.noise(len(real))
    fake = by_hand.G(z).detach()
    expected = (
        relativistic_d_loss(by_hand.D(real), by_hand.D(fake))
        + 3 * 2.0 / 2 * zero_centred_penalty(by_hand.D, real)
        + 3 * 0.5 / 2 * zero_centred_penalty(by_hand.D, fake)
    )
    trainer.fit(steps=7)
    assert trainer.history["loss_d"][0] == pytest.approx(expected.item(), rel=1e-5)
    measured = [not math.isnan(v) for v in trainer.history["r1"]]
    assert measured == [True, False, False, True, False, False, True]
    assert len(trainer.history["r2"]) == len(trainer.history["step"]) == 7
