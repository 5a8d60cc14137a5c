"""The small PyTorch MLP GANs of notebook 07: recipes, constraints and training."""

import numpy as np
import pytest
import torch

from gancourse.data import load_dataset
from gancourse.errors import UsageError
from gancourse.numpy_gans.images import ImageGAN, dense_discriminator, dense_generator
from gancourse.numpy_gans.toy import ToyGAN
from gancourse.training import GANTrainer
from gancourse.training.mlp_gan import KINDS, MLPGANConfig, mlp_gan, one_thread

SMALL = {"hidden": 8, "layers": 2, "batch_size": 32}


def _weights(module):
    return [p.detach().clone() for p in module.parameters()]


def test_each_kind_gets_its_papers_recipe():
    gan, wgan, gp = (mlp_gan(kind, **SMALL) for kind in KINDS)
    assert gan.config.loss == "non-saturating" and gan.config.d_steps == 1
    assert isinstance(gan.opt_d, torch.optim.Adam)
    assert (wgan.config.loss, wgan.config.clip, wgan.config.d_steps) == (
        "wasserstein",
        0.01,
        5,
    )
    assert isinstance(wgan.opt_d, torch.optim.RMSprop) and wgan.config.gp_weight == 0
    assert (gp.config.gp_weight, gp.config.betas, gp.config.clip) == (
        10.0,
        (0.0, 0.9),
        None,
    )
    assert isinstance(gp.opt_d, torch.optim.Adam)
    assert gp.opt_d.param_groups[0]["betas"] == (0.0, 0.9)


def test_options_override_the_recipe():
    gan = mlp_gan("wgan", lr=5e-5, clip=0.05, **SMALL)
    assert gan.config.clip == 0.05 and gan.opt_d.param_groups[0]["lr"] == 5e-5


def test_the_same_seed_gives_the_same_generator_for_every_kind():
    samples = [mlp_gan(kind, seed=3, **SMALL).fixed_samples() for kind in KINDS]
    assert all(np.array_equal(samples[0], other) for other in samples[1:])
    other_seed = mlp_gan("gan", seed=4, **SMALL).fixed_samples()
    assert not np.array_equal(samples[0], other_seed)


def test_wgan_critic_weights_stay_clipped_from_the_start_and_after_steps():
    gan = mlp_gan("wgan", **SMALL)
    assert np.abs(gan.critic_weights()).max() <= 0.01
    gan.fit(3)
    for p in gan.D.parameters():
        assert p.abs().max() <= 0.01 + 1e-9
    assert np.mean(np.abs(gan.critic_weights()) > 0.0099) > 0.5  # init piles there


def test_wgan_gp_critic_is_not_clipped_and_records_its_penalty():
    gan = mlp_gan("wgan-gp", **SMALL).fit(2)
    assert np.abs(gan.critic_weights()).max() > 0.1
    assert len(gan.history["gp"]) == 2 and all(np.isfinite(gan.history["gp"]))
    assert all(g > 0 for g in gan.history["gp"])


def test_history_has_one_value_per_step():
    for kind in KINDS:
        gan = mlp_gan(kind, **SMALL).fit(2).fit(1)
        assert gan.step == 3
        assert {len(v) for v in gan.history.values()} == {3}
        for name in ("loss_d", "loss_g", "d_real", "d_fake", "wasserstein"):
            assert all(np.isfinite(gan.history[name])), (kind, name)
    assert np.isnan(mlp_gan("gan", **SMALL).fit(1).history["gp"]).all()


def test_d_real_and_d_fake_are_probabilities_or_mean_critic_scores():
    gan = mlp_gan("gan", **SMALL).fit(3)
    assert all(0 < v < 1 for v in gan.history["d_real"] + gan.history["d_fake"])
    for kind in ("wgan", "wgan-gp"):
        history = mlp_gan(kind, **SMALL).fit(3).history
        difference = np.subtract(history["d_real"], history["d_fake"])
        assert np.allclose(difference, history["wasserstein"], atol=1e-6)


@pytest.mark.parametrize("batch_size", [8, 32])
def test_the_g_update_uses_the_batch_size(batch_size):
    gan = mlp_gan("gan", **{**SMALL, "batch_size": batch_size})
    sizes = []
    gan.G.register_forward_hook(lambda _, inputs, out: sizes.append(len(out)))
    gan.g_update()
    assert sizes == [batch_size]


def test_g_steps_g_updates_per_training_step(monkeypatch):
    gan = mlp_gan("wgan-gp", g_steps=2, **SMALL)
    calls = []
    update = gan.g_update
    monkeypatch.setattr(gan, "g_update", lambda: calls.append(1) or update())
    gan.fit(3)
    assert len(calls) == 6 and gan.step == 3 and len(gan.history["loss_g"]) == 3


def test_critic_update_leaves_g_alone_and_g_update_leaves_the_critic_alone():
    gan = mlp_gan("wgan-gp", **SMALL)
    g_before, d_before = _weights(gan.G), _weights(gan.D)
    gan.d_update()
    assert all(
        torch.equal(a, b) for a, b in zip(g_before, _weights(gan.G), strict=True)
    )
    d_after = _weights(gan.D)
    assert not all(torch.equal(a, b) for a, b in zip(d_before, d_after, strict=True))
    d_grads = [p.grad.clone() for p in gan.D.parameters()]
    gan.g_update()
    assert all(torch.equal(a, b) for a, b in zip(d_after, _weights(gan.D), strict=True))
    for p, grad in zip(gan.D.parameters(), d_grads, strict=True):
        assert torch.equal(p.grad, grad), "the G step must not reach D's gradients"
    assert not all(
        torch.equal(a, b) for a, b in zip(g_before, _weights(gan.G), strict=True)
    )
    assert all(p.requires_grad for p in gan.D.parameters())


def test_samples_and_critic_grid_have_the_right_shapes():
    gan = mlp_gan("gan", **SMALL)
    assert gan.sample(10).shape == (10, 2)
    assert not np.array_equal(gan.sample(10), gan.sample(10))  # fresh noise
    assert gan.fixed_samples().shape == (len(gan.fixed_noise), 2)
    assert np.array_equal(gan.fixed_samples(), gan.fixed_samples())
    assert np.array_equal(gan.sample(2000, seed=1), gan.sample(2000, seed=1))
    assert gan.critic_grid(np.zeros(5), np.zeros(3)).shape == (3, 5)


def test_sampling_many_points_without_a_seed_leaves_training_alone():
    quiet, sampled = mlp_gan("wgan-gp", **SMALL), mlp_gan("wgan-gp", **SMALL)
    first, second = sampled.sample(1500), sampled.sample(1500)
    assert first.shape == (1500, 2) and np.isfinite(first).all()
    assert not np.array_equal(first, second)  # fresh noise each call
    quiet.fit(2)
    sampled.fit(2)
    assert quiet.history == sampled.history
    for a, b in zip(_weights(quiet.G), _weights(sampled.G), strict=True):
        assert torch.equal(a, b)


def test_a_small_gan_learns_the_point():
    gan = mlp_gan("gan", "point", lr=3e-3, seed=2, **SMALL)
    start = np.median(np.linalg.norm(gan.fixed_samples() - [1, 1], axis=1))
    gan.fit(150)
    end = np.median(np.linalg.norm(gan.fixed_samples() - [1, 1], axis=1))
    assert end < 0.3 * start


def test_accepts_a_toy_dataset_object():
    data = load_dataset("two-gaussians", n=100)
    assert mlp_gan("gan", data, **SMALL).dataset is data


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"kind": "dcgan"}, "unknown kind 'dcgan'"),
        ({"dataset": "ring9"}, "unknown toy dataset 'ring9'"),
        ({"optimizer": "sgd"}, "unknown optimizer"),
        ({"lr": 0.0}, "lr must be above 0"),
        ({"clip": -0.01}, "clip must be above 0"),
        ({"gp_weight": -1.0}, "gp_weight must be 0 or more"),
        ({"d_steps": 0}, "d_steps must be a whole number"),
        ({"hidden": 2.5}, "hidden must be a whole number"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(options, says):
    with pytest.raises(UsageError, match=says):
        MLPGANConfig(**options).check()


def test_unknown_options_and_kinds_are_refused_before_building():
    with pytest.raises(TypeError, match="no setting 'lr_d'"):
        mlp_gan("gan", lr_d=1e-3)
    with pytest.raises(UsageError, match="use one of"):
        mlp_gan("hinge")


@pytest.mark.parametrize("steps", [0, -1, 1.5, True])
def test_fit_needs_a_whole_number_of_steps(steps):
    with pytest.raises(UsageError, match="steps must be a whole number"):
        mlp_gan("gan", **SMALL).fit(steps)


def test_one_thread_restores_the_thread_count_even_after_an_error():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError), one_thread():
            assert torch.get_num_threads() == 1
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_fit_trains_on_one_thread_and_restores_the_count(monkeypatch):
    seen = []
    gan = mlp_gan("gan", **SMALL)
    update = gan.d_update
    monkeypatch.setattr(
        gan, "d_update", lambda: seen.append(torch.get_num_threads()) or update()
    )
    before = torch.get_num_threads()
    gan.fit(2)
    assert seen == [1, 1] and torch.get_num_threads() == before


@pytest.mark.usefixtures("one_thread")
def test_the_numpy_gans_mlpgan_and_gantrainer_speak_one_vocabulary(mnist):
    rng = np.random.default_rng(0)
    loops = {
        "ToyGAN": ToyGAN(batch_size=32, hidden=8),
        "ImageGAN": ImageGAN(
            dense_generator(4, hidden=8, rng=rng),
            dense_discriminator(hidden=8, rng=rng),
            load_dataset("digits10").images,
            z_dim=4,
            batch_size=8,
        ),
        "MLPGAN": mlp_gan("wgan-gp", **SMALL),
        "GANTrainer": GANTrainer.from_preset(
            "dcgan",
            mnist,
            g={"width": 8},
            d={"width": 8},
            batch_size=32,
            device="cpu",
            progress=False,
        ),
    }
    for name, gan in loops.items():
        for method in ("d_update", "g_update", "train_step", "fit", "fixed_samples"):
            assert callable(getattr(gan, method, None)), (name, method)
        config = gan.G.config if name == "GANTrainer" else gan.config
        assert gan.fixed_noise.shape[1] == config.z_dim, name
        assert len(gan.fixed_samples()) == len(gan.fixed_noise), name
        assert gan.step == 0, name
        assert gan.fit(2) is gan and gan.step == 2, name
        gan.train_step()
        assert gan.step == 3, name
        for key in ("loss_d", "loss_g", "d_real", "d_fake"):
            assert len(gan.history[key]) == 3, (name, key)
            assert np.isfinite(gan.history[key]).all(), (name, key)
