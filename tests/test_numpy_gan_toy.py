"""ToyGAN: its updates, its knobs, its views for plots and its errors; all fast."""

import numpy as np
import pytest

from gancourse.errors import UsageError
from gancourse.numpy_gans.toy import ToyGAN, train_toy_gan

SMALL = {"batch_size": 64, "hidden": 16}


def weights(network):
    """Copies of every parameter of a network."""
    return [param.copy() for param, _ in network.parameters()]


def same(before, network):
    """Whether every parameter of a network equals its copy in `before`."""
    return all(
        np.array_equal(old, param)
        for old, (param, _) in zip(before, network.parameters(), strict=True)
    )


def count_calls(monkeypatch, optimiser):
    """Count the calls of optimiser.step from now on."""
    calls = []
    step = optimiser.step
    monkeypatch.setattr(optimiser, "step", lambda: calls.append(1) or step())
    return calls


def test_same_seed_same_run_and_other_seed_other_run():
    first = train_toy_gan("ring8", steps=20, seed=3, **SMALL)
    again = train_toy_gan("ring8", steps=20, seed=3, **SMALL)
    other = train_toy_gan("ring8", steps=20, seed=4, **SMALL)
    assert first.history == again.history
    assert np.array_equal(first.sample(100, seed=0), again.sample(100, seed=0))
    assert not np.array_equal(first.sample(100, seed=0), other.sample(100, seed=0))


def test_history_and_snapshots_grow_with_the_steps():
    gan = train_toy_gan("ring8", steps=25, snapshot_every=10, **SMALL)
    assert set(gan.history) == {"loss_d", "loss_g", "d_real", "d_fake"}
    assert all(len(values) == 25 for values in gan.history.values())
    assert [step for step, _ in gan.snapshots] == [0, 10, 20]
    assert all(points.shape == (256, 2) for _, points in gan.snapshots)
    assert gan.sample(7).shape == (7, 2)


@pytest.mark.parametrize(("d_steps", "g_steps"), [(5, 1), (1, 2)])
def test_each_step_updates_d_and_g_as_often_as_asked(monkeypatch, d_steps, g_steps):
    gan = ToyGAN(d_steps=d_steps, g_steps=g_steps, **SMALL)
    d_calls = count_calls(monkeypatch, gan.opt_d)
    g_calls = count_calls(monkeypatch, gan.opt_g)
    gan.fit(3)
    assert (len(d_calls), len(g_calls)) == (3 * d_steps, 3 * g_steps)
    assert (gan.d_updates, gan.g_updates) == (3 * d_steps, 3 * g_steps)


def test_the_g_step_leaves_d_alone_and_the_d_step_leaves_g_alone():
    gan = ToyGAN(**SMALL)
    d_before, g_before = weights(gan.discriminator), weights(gan.generator)
    gan.g_update()
    assert same(d_before, gan.discriminator)
    assert not same(g_before, gan.generator)
    g_before = weights(gan.generator)
    gan.d_update()
    assert same(g_before, gan.generator)
    assert not same(d_before, gan.discriminator)


def test_changing_the_knobs_mid_run_takes_effect_at_the_next_step(monkeypatch):
    gan = ToyGAN(decay=0.0, **SMALL)
    gan.fit(2)
    assert (gan.opt_d.lr, gan.opt_g.lr) == (gan.lr_d, gan.lr_g)
    gan.lr_d, gan.lr_g, gan.d_steps = 0.01, 0.002, 3
    d_calls = count_calls(monkeypatch, gan.opt_d)
    gan.train_step()
    assert (gan.opt_d.lr, gan.opt_g.lr) == (0.01, 0.002)
    assert len(d_calls) == 3


def test_the_lr_decays_over_the_last_part_of_the_steps():
    gan = ToyGAN(steps=10, decay=0.5, final_lr_scale=0.1, **SMALL)
    scales = []
    for _ in range(12):
        scales.append(gan.lr_scale())
        gan.train_step()
    assert scales[:6] == [1.0] * 6
    assert scales[6] < 1.0 and np.all(np.diff(scales[5:11]) < 0)
    assert scales[10] == scales[11] == pytest.approx(0.1)


def test_wasserstein_clipping_keeps_every_critic_weight_in_bounds():
    gan = ToyGAN(loss="wasserstein", clip=0.01, lr_d=0.05, **SMALL)
    gan.fit(3)
    for param, _ in gan.discriminator.parameters():
        assert np.abs(param).max() <= 0.01
    assert np.abs(gan.discriminator.layers[0].params["W"]).max() == pytest.approx(0.01)


@pytest.mark.parametrize("pack", [1, 2, 4])
def test_packing_widens_the_input_of_d(pack):
    gan = ToyGAN(pack=pack, **SMALL)
    assert gan.discriminator.layers[0].params["W"].shape == (16, 2 * pack)
    gan.fit(2)


@pytest.mark.parametrize("loss", ["non-saturating", "minimax", "wasserstein"])
def test_every_loss_trains_and_its_views_are_finite(loss):
    gan = train_toy_gan("ring8", steps=5, loss=loss, pack=2, **SMALL)
    xs, ys = np.linspace(-3, 3, 7), np.linspace(-2, 2, 5)
    grid = gan.discriminator_grid(xs, ys)
    assert grid.shape == (5, 7) and np.isfinite(grid).all()
    if loss != "wasserstein":
        assert ((grid >= 0) & (grid <= 1)).all()
    arrows = gan.generator_gradients(gan.sample(30))
    assert arrows.shape == (30, 2) and np.isfinite(arrows).all()
    assert np.abs(arrows).sum() > 0
    assert all(np.isfinite(values).all() for values in gan.history.values())


def distance_to_point(points):
    """Mean distance of (N, 2) points to the "point" dataset, a single (1, 1)."""
    return np.sqrt(((points - 1.0) ** 2).sum(axis=1)).mean()


def test_generated_points_move_to_the_data():
    gan = ToyGAN(dataset="point", steps=200, batch_size=64, hidden=32, seed=1)
    start = distance_to_point(gan.sample(500, seed=0))
    gan.fit(200)
    assert start > 1.0
    assert distance_to_point(gan.sample(500, seed=0)) < 0.2 * start


def test_generator_gradients_point_towards_the_data():
    gan = ToyGAN(dataset="point", batch_size=64, hidden=32, seed=0)
    for _ in range(30):
        gan.d_update()  # D learns that (1, 1) is real and G's points are fake
    points = gan.sample(100, seed=0)  # (100, 2), near the origin
    arrows = gan.generator_gradients(points)  # (100, 2)
    towards = 1.0 - points  # (100, 2)
    cosines = (arrows * towards).sum(axis=1) / (
        np.linalg.norm(arrows, axis=1) * np.linalg.norm(towards, axis=1)
    )
    assert np.mean(cosines > 0.5) > 0.9


@pytest.mark.parametrize(
    ("options", "fix"),
    [
        ({"dataset": "ring9"}, "use one of point, gaussian"),
        ({"dataset": "mnist-5k"}, "use one of"),
        ({"loss": "hinge"}, "use one of non-saturating"),
        ({"lr_d": 0}, "lr_d must be above 0"),
        ({"lr_g": -1e-3}, "lr_g must be above 0"),
        ({"steps": 0}, "steps must be a whole number of at least 1"),
        ({"batch_size": 0}, "batch_size must be a whole number of at least 1"),
        ({"batch_size": 30, "pack": 4}, "must be a multiple of pack"),
        ({"codes": 1}, "codes must be 0 .no code. or a whole number of at least 2"),
        ({"codes": 2.5}, "codes must be 0"),
        ({"info": -1}, "info must be at least 0"),
    ],
)
def test_bad_options_raise_one_clear_error_before_training(options, fix):
    with pytest.raises(UsageError, match=fix):
        train_toy_gan(**options)


def test_fit_refuses_fewer_than_one_step():
    gan = ToyGAN(**SMALL)
    with pytest.raises(UsageError, match="steps must be"):
        gan.fit(0)
    gan.d_steps = 0
    with pytest.raises(UsageError, match="d_steps and g_steps must be at least 1"):
        gan.train_step()


def jacobians(gan, noise):
    """G's Jacobians wrt its whole input, (N, 2, noise_dim), multiplied out by hand."""
    from gancourse.nn_numpy import Dense, LeakyReLU

    x = noise.astype(np.float64)  # (N, noise_dim)
    jac = np.broadcast_to(np.eye(noise.shape[1]), (len(noise), *[noise.shape[1]] * 2))
    for layer in gan.generator.layers:
        if isinstance(layer, Dense):
            weight = layer.params["W"].astype(np.float64)  # (n_out, n_in)
            x = x @ weight.T + layer.params["b"]
            jac = np.einsum("oi,nik->nok", weight, jac)
        else:
            assert isinstance(layer, LeakyReLU)
            slope = np.where(x > 0, 1.0, layer.alpha)  # (N, width)
            x, jac = x * slope, jac * slope[:, :, None]
    return jac  # (N, 2, noise_dim)


def test_generator_steepness_is_the_norm_of_gs_jacobian():
    gan = train_toy_gan("grid25", steps=30, **SMALL)
    noise = gan.noise(200, np.random.default_rng(0))  # (200, z_dim)
    expected = np.sqrt((jacobians(gan, noise) ** 2).sum(axis=(1, 2)))  # (200,)
    steepness = gan.generator_steepness(noise)
    assert steepness.shape == (200,)
    np.testing.assert_allclose(steepness, expected, rtol=1e-4)
    assert expected.std() > 0.01 * expected.mean()  # not one number for every z


def test_generator_steepness_leaves_training_alone():
    gan = ToyGAN(**SMALL)
    for _, grad in gan.generator.parameters():
        grad[...] = 1.5  # gradients a caller has not used yet
    before = weights(gan.generator)
    gan.generator_steepness(gan.noise(50))
    assert same(before, gan.generator)
    assert all((grad == 1.5).all() for _, grad in gan.generator.parameters())


@pytest.mark.parametrize("shape", [(10,), (10, 3), (10, 4, 1)])
def test_generator_steepness_refuses_noise_of_the_wrong_shape(shape):
    with pytest.raises(UsageError, match=r"noise must have shape \(N, 4\)"):
        ToyGAN(**SMALL).generator_steepness(np.zeros(shape))


def test_codes_put_a_one_hot_code_before_the_noise():
    gan = ToyGAN(codes=5, **SMALL)
    noise = gan.noise(2000, np.random.default_rng(0))  # (2000, 5 + 4)
    assert noise.shape == (2000, 9) and gan.noise_dim == 9
    assert gan.generator.layers[0].params["W"].shape == (16, 9)
    one_hot = noise[:, :5]  # (2000, 5)
    assert ((one_hot != 0).sum(axis=1) == 1).all()
    assert set(np.unique(one_hot)) == {0.0, 1.0}
    codes = gan.codes_of(noise)  # (2000,)
    assert np.array_equal(codes, one_hot.argmax(axis=1))
    assert np.bincount(codes, minlength=5).min() > 300  # every code, about 400 each
    assert abs(noise[:, 5:].std() - 1) < 0.05  # z: unit Gaussian noise
    assert ToyGAN(**SMALL).noise(10).shape == (10, 4)  # no codes: z alone


def as_torch(network):
    """A float64 torch copy of a NumPy mlp of Dense and LeakyReLU layers."""
    import torch

    from gancourse.nn_numpy import Dense

    modules = []
    for layer in network.layers:
        if isinstance(layer, Dense):
            linear = torch.nn.Linear(layer.n_in, layer.n_out).double()
            linear.weight.data = torch.tensor(layer.params["W"], dtype=torch.float64)
            linear.bias.data = torch.tensor(layer.params["b"], dtype=torch.float64)
            modules.append(linear)
        else:
            modules.append(torch.nn.LeakyReLU(layer.alpha))
    return torch.nn.Sequential(*modules)


@pytest.mark.parametrize("info", [0.0, 2.0])
def test_the_g_step_with_codes_descends_gs_loss_plus_info_times_qs_loss(
    monkeypatch, info
):
    import copy

    import torch

    gan = train_toy_gan("ring8", steps=30, codes=4, info=info, **SMALL)
    generator, discriminator = as_torch(gan.generator), as_torch(gan.discriminator)
    reader = as_torch(gan.reader)
    noise = gan.noise(gan.batch_size, copy.deepcopy(gan.rng))  # the next G batch
    monkeypatch.setattr(gan.opt_g, "step", lambda: None)  # keep G's gradients
    gan.g_update()
    points = generator(torch.tensor(noise, dtype=torch.float64))  # (B, 2)
    scores = discriminator(points.reshape(-1, 2 * gan.pack))  # (B / pack, 1)
    loss_g = torch.nn.functional.softplus(-scores).mean()  # non-saturating
    loss_q = torch.nn.functional.cross_entropy(
        reader(points), torch.tensor(gan.codes_of(noise))
    )
    (loss_g + info * loss_q).backward()
    theirs = [
        p.grad.numpy()
        for m in generator
        if hasattr(m, "weight")
        for p in m.parameters()
    ]
    ours = [grad for _, grad in gan.generator.parameters()]
    for mine, want in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, want, rtol=2e-3, atol=1e-6)


def test_q_learns_to_read_the_codes_and_g_helps_it():
    def accuracy(gan):
        noise = gan.noise(2000, np.random.default_rng(5))  # (2000, noise_dim)
        logits = gan.reader(gan.generator(noise))  # (2000, codes)
        return float((logits.argmax(axis=1) == gan.codes_of(noise)).mean())

    helped = train_toy_gan("grid25", steps=300, codes=8, info=1.0, **SMALL)
    alone = train_toy_gan("grid25", steps=300, codes=8, info=0.0, **SMALL)
    assert accuracy(helped) > 0.9  # chance: 1/8
    assert accuracy(helped) > accuracy(alone) + 0.2


def test_codes_with_no_reading_back_are_allowed_and_change_nothing_else():
    gan = train_toy_gan("ring8", steps=5, codes=3, info=0.0, **SMALL)
    assert (
        repr(gan)
        == "ToyGAN('ring8', loss='non-saturating', pack=2, codes=3, 5 steps done)"
    )
    assert gan.sample(10).shape == (10, 2)


def test_generator_steepness_with_codes_holds_the_code_fixed():
    gan = train_toy_gan("grid25", steps=30, codes=6, **SMALL)
    noise = gan.noise(200, np.random.default_rng(0))  # (200, 6 + 4)
    jac = jacobians(gan, noise)[:, :, 6:]  # (200, 2, z_dim): only z moves
    expected = np.sqrt((jac**2).sum(axis=(1, 2)))  # (200,)
    np.testing.assert_allclose(gan.generator_steepness(noise), expected, rtol=1e-4)
    with pytest.raises(UsageError, match=r"noise must have shape \(N, 10\)"):
        gan.generator_steepness(noise[:, 6:])
