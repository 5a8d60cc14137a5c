"""DiffAugment (gancourse.augment) against per-image loops written out by hand."""

import pytest
import torch

from gancourse.augment import (
    cutout,
    diff_augment,
    rand_brightness,
    rand_contrast,
    rand_saturation,
    rand_translation,
    translate,
)
from gancourse.errors import UsageError


def images(n=5, c=3, h=6, w=9, seed=0):
    """Non-square test images: a transpose of H and W would show."""
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def shifted_by_hand(x, dh, dw):
    """One image (C, H, W) moved down dh and right dw pixels, the rest zero."""
    out = torch.zeros_like(x)
    _, h, w = x.shape
    for i in range(h):
        for j in range(w):
            if 0 <= i - dh < h and 0 <= j - dw < w:
                out[:, i, j] = x[:, i - dh, j - dw]
    return out


def test_translate_moves_each_image_by_its_own_shift():
    x = images()
    shift_h, shift_w = torch.tensor([0, 1, -2, 6, -1]), torch.tensor([0, -3, 2, 1, 9])
    moved = translate(x, shift_h, shift_w)
    for k in range(len(x)):
        expected = shifted_by_hand(x[k], shift_h[k].item(), shift_w[k].item())
        assert torch.equal(moved[k], expected), k


def test_cutout_zeroes_exactly_one_box_per_image():
    x = images()
    centre_h, centre_w = torch.tensor([0, 3, 5, 2, 1]), torch.tensor([0, 4, 8, 1, 6])
    out = cutout(x, centre_h, centre_w, 3, 4)
    for k in range(len(x)):
        expected = x[k].clone()
        top, left = centre_h[k].item() - 1, centre_w[k].item() - 2
        expected[:, max(top, 0) : top + 3, max(left, 0) : left + 4] = 0
        assert torch.equal(out[k], expected), k


def test_colour_changes_follow_their_formulas_per_image():
    x = images()
    for augment in (rand_brightness, rand_saturation, rand_contrast):
        out = augment(x, generator=torch.Generator().manual_seed(3))
        u = torch.rand(len(x), generator=torch.Generator().manual_seed(3))
        for k in range(len(x)):
            if augment is rand_brightness:
                expected = x[k] + (u[k] - 0.5)
            elif augment is rand_saturation:
                grey = x[k].mean(0, keepdim=True)
                expected = (x[k] - grey) * (2 * u[k]) + grey
            else:
                mean = x[k].mean()
                expected = (x[k] - mean) * (u[k] + 0.5) + mean
            assert torch.allclose(out[k], expected, atol=1e-6), (augment, k)


def test_random_shifts_stay_within_an_eighth_and_vary_per_image():
    x = torch.zeros(200, 1, 16, 16)
    x[:, :, 8, 8] = 1  # one bright pixel, found after the shift
    out = rand_translation(x, generator=torch.Generator().manual_seed(0))
    where = out.flatten(1).argmax(1)
    rows, cols = where // 16 - 8, where % 16 - 8
    assert rows.abs().max() == 2 and cols.abs().max() == 2  # 16 / 8 = 2
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 15


def test_augmentation_is_differentiable_and_reaches_every_image():
    x = images().double().requires_grad_(True)
    out = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(1))
    out.sum().backward()
    assert out.shape == x.shape and out.dtype == x.dtype
    assert (x.grad.flatten(1).abs().sum(1) > 0).all()
    torch.autograd.gradcheck(
        lambda t: diff_augment(
            t, "color,translation,cutout", torch.Generator().manual_seed(1)
        ),
        (images(2, 2, 4, 5).double().requires_grad_(True),),
    )


def test_the_same_generator_state_gives_the_same_augmentation():
    x = images()
    a = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(7))
    b = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(7))
    c = diff_augment(x, "color,translation,cutout", torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("policy", ["colour", "color,flip", 3])
def test_an_unknown_policy_is_one_clear_error(policy):
    with pytest.raises(UsageError, match="DiffAugment policy"):
        diff_augment(images(), policy)
