"""The NumPy image GAN: which network each step changes, shapes, and learning."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from gancourse.data import load_dataset
from gancourse.errors import UsageError
from gancourse.nn_numpy import Dense, Flatten, Sequential
from gancourse.numpy_gans.images import (
    ImageGAN,
    conv_discriminator,
    conv_generator,
    dense_discriminator,
    dense_generator,
    image_mode_coverage,
    nearest_mode,
)


def _weights(model):
    return [param.copy() for param, _ in model.parameters()]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _dense_gan(data="true-image", seed=0, **options):
    rng = np.random.default_rng(seed)
    real = load_dataset(data).images
    return ImageGAN(
        dense_generator(8, hidden=32, rng=rng),
        dense_discriminator(hidden=32, rng=rng),
        real,
        z_dim=8,
        seed=seed,
        **options,
    )


def test_generator_step_leaves_d_unchanged_and_d_step_leaves_g_unchanged():
    gan = _dense_gan()
    g_before, d_before = _weights(gan.generator), _weights(gan.discriminator)
    gan.g_update()
    assert _same(_weights(gan.discriminator), d_before)
    assert not _same(_weights(gan.generator), g_before)
    assert all(not grad.any() for _, grad in gan.discriminator.parameters())
    g_before, d_before = _weights(gan.generator), _weights(gan.discriminator)
    result = gan.d_update()
    assert _same(_weights(gan.generator), g_before)
    assert not _same(_weights(gan.discriminator), d_before)
    assert set(result) == {"loss_d", "d_real", "d_fake"}


def test_d_steps_and_g_steps_count_updates_and_fill_the_history():
    gan = _dense_gan(d_steps=3, g_steps=2, snapshot_every=2)
    gan.fit(4)
    assert (gan.d_updates, gan.g_updates, gan.step) == (12, 8, 4)
    assert all(len(values) == 4 for values in gan.history.values())
    assert [step for step, _ in gan.snapshots] == [0, 2, 4]
    gan.d_steps = 1
    gan.train_step()
    assert gan.d_updates == 13


def test_shapes_of_samples_snapshots_and_conv_networks():
    gan = _dense_gan("digits10", num_fixed=6)
    assert gan.sample(5).shape == (5, 1, 10, 10)
    assert gan.snapshots[0][1].shape == (6, 1, 10, 10)
    rng = np.random.default_rng(0)
    generator, discriminator = conv_generator(4, rng=rng), conv_discriminator(rng=rng)
    images = generator(rng.standard_normal((3, 4), dtype=np.float32))
    assert images.shape == (3, 1, 10, 10) and np.abs(images).max() < 1
    assert discriminator(images).shape == (3, 1)
    conv = ImageGAN(generator, discriminator, load_dataset("digits10").images,
                    z_dim=4, batch_size=8)  # fmt: skip
    conv.fit(2)
    assert conv.sample(2).shape == (2, 1, 10, 10)


def test_a_short_run_learns_true_image():
    gan = _dense_gan(lr_d=2e-3, lr_g=2e-3)
    target = gan.real_images[0]
    error_before = np.abs(gan.sample(64, seed=1) - target).mean()
    gan.fit(150)
    error_after = np.abs(gan.sample(64, seed=1) - target).mean()
    assert error_before > 0.5 and error_after < 0.15, (error_before, error_after)


def test_the_minimax_loss_is_the_negated_bce_against_zero():
    gan = _dense_gan(loss="minimax")
    logits = np.array([[-3.0], [0.0], [2.0]])
    loss, grad = gan.g_loss(logits)
    sigmoid = 1 / (1 + np.exp(-logits))
    assert np.isclose(loss, np.mean(np.log(1 - sigmoid)))
    assert np.allclose(grad, -sigmoid / 3)


def test_mode_coverage_counts_digits():
    digits = load_dataset("digits10").images.numpy()
    assert image_mode_coverage(digits, digits) == (10, 1.0)
    three_sixes = np.repeat(digits[6:7], 3, axis=0)
    assert image_mode_coverage(three_sixes, digits) == (1, 1.0)
    nearest, distance = nearest_mode(-digits, digits)
    assert (distance > 0.5).all()
    assert image_mode_coverage(-digits, digits) == (0, 0.0)
    assert len(nearest) == 10


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"real_images": np.zeros((1, 10, 10))}, "\\(N, C, H, W\\)"),
        ({"real_images": np.full((2, 1, 10, 10), 255.0)}, "\\[-1, 1\\]"),
        ({"real_images": np.zeros((2, 1, 8, 8))}, "generator makes images"),
        ({"lr_g": 0}, "lr_g must be above 0"),
        ({"loss": "wasserstein"}, "unknown loss"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"z_dim": 0}, "z_dim must be"),
        ({"snapshot_every": 1.5}, "snapshot_every must be"),
        ({"num_fixed": 0}, "num_fixed must be"),
        ({"discriminator": Sequential(Flatten(), Dense(100, 2))}, "one logit"),
        ({"discriminator": Sequential(Dense(8, 1))}, "discriminator cannot take"),
        ({"z_dim": 3}, "generator cannot take noise of size 3"),
    ],
)
def test_bad_inputs_raise_a_clear_usage_error(change, says):
    rng = np.random.default_rng(0)
    arguments = {
        "generator": dense_generator(8, rng=rng),
        "discriminator": dense_discriminator(rng=rng),
        "real_images": load_dataset("true-image").images,
        "z_dim": 8,
    }
    arguments.update(change)
    with pytest.raises(UsageError, match=says):
        ImageGAN(**arguments)


def test_fit_refuses_a_bad_number_of_steps():
    with pytest.raises(UsageError, match="steps must be"):
        _dense_gan().fit(0)


def test_snapshot_pictures_and_the_animation():
    import matplotlib

    matplotlib.use("Agg")
    from gancourse.animation import (
        animate_snapshots,
        animation_html,
        image_grid,
        show_snapshots,
    )

    white = np.ones((3, 1, 10, 10))
    grid = image_grid(white, nrow=2)
    assert grid.shape == (2 * 11 + 1, 2 * 11 + 1, 3)
    assert (grid[1:11, 1:11] == 1).all() and (grid[12:22, 12:22] != 1).any()
    gan = _dense_gan("digits10", snapshot_every=1, num_fixed=10)
    gan.fit(3)
    assert len(show_snapshots(gan.snapshots, rows=2).get_yticklabels()) == 2
    animation = animate_snapshots(gan.snapshots, nrow=5)
    html = animation_html(animation)
    assert html.count("frames[") >= 4
    # the picture holds the first frame before any script runs, not an empty box
    tag = re.search(r'<img id="_anim_img\w+" src="data:image/png;base64,([^"]+)"', html)
    assert tag is not None, "the animation's picture has no first frame"
    first = Image.open(io.BytesIO(base64.b64decode(tag.group(1))))
    assert first.width > 50 and first.height > 50
