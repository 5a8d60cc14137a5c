"""The toy GAN explorer, driven as a person would: by setting values and clicking."""

import pytest

pytest.importorskip("ipywidgets")

from gancourse.widgets import toy_gan_explorer  # noqa: E402


@pytest.fixture
def explorer():
    """An explorer with short bursts, so each test stays fast."""
    made = toy_gan_explorer(dataset="ring8", hidden=32)
    made.burst_steps, made.steps_per_tick = 20, 5
    return made


def test_it_starts_untrained_with_a_plot_and_a_readout(explorer):
    assert explorer.gan.step == 0
    assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "step 0" in explorer.readout.value and "/8" in explorer.readout.value
    assert "nan" not in explorer.readout.value  # no losses yet: a dash, not nan
    assert "D loss -" in explorer.readout.value.replace("&nbsp;", " ")
    for slider in (explorer.lr_d, explorer.lr_g, explorer.d_steps, explorer.g_steps):
        assert slider.continuous_update is False


def test_learning_rate_sliders_are_log_scale_with_values_on_their_grid(explorer):
    slider = explorer.lr_d
    assert slider.base == 10 and slider.min < -3 < slider.max
    assert ((-3 - slider.min) / slider.step).is_integer()  # the default is on the grid


def test_moving_the_lr_slider_changes_the_run_and_the_picture(explorer):
    before_image, before_text = explorer.image.value, explorer.readout.value
    explorer.lr_d.value = 10**-2
    assert explorer.gan.lr_d == pytest.approx(1e-2)
    assert explorer.gan.step == 20  # paused: a burst shows the effect at once
    assert explorer.image.value != before_image
    assert explorer.readout.value != before_text and "step 20" in explorer.readout.value
    explorer.lr_g.value = 10**-4
    assert explorer.gan.lr_g == pytest.approx(1e-4)


def test_ratio_sliders_set_updates_per_step(explorer):
    explorer.d_steps.value = 5
    d0, g0 = explorer.gan.d_updates, explorer.gan.g_updates
    explorer.gan.fit(2)
    assert (explorer.gan.d_updates - d0, explorer.gan.g_updates - g0) == (10, 2)
    explorer.d_steps.value, explorer.g_steps.value = 1, 2
    d0, g0 = explorer.gan.d_updates, explorer.gan.g_updates
    explorer.gan.fit(3)
    assert (explorer.gan.d_updates - d0, explorer.gan.g_updates - g0) == (3, 6)


def test_step_buttons_update_one_network_only(explorer):
    explorer.step_d_button.click()
    assert (explorer.gan.d_updates, explorer.gan.g_updates) == (1, 0)
    explorer.step_g_button.click()
    explorer.step_g_button.click()
    assert (explorer.gan.d_updates, explorer.gan.g_updates) == (1, 2)
    assert "G updates 2" in explorer.readout.value


def test_play_ticks_keep_training(explorer):
    explorer.play.value += 1
    explorer.play.value += 1
    assert explorer.gan.step == 10


def test_dataset_loss_pack_and_codes_start_a_new_gan(explorer):
    explorer.gan.fit(3)
    explorer.dataset.value = "grid25"
    assert explorer.gan.dataset.name == "grid25" and explorer.gan.step == 0
    assert "/25" in explorer.readout.value
    explorer.loss.value = "wasserstein"
    assert explorer.gan.config.loss == "wasserstein"
    explorer.pack.value = 4
    assert explorer.gan.config.pack == 4
    explorer.codes.value = 50
    assert explorer.gan.config.codes == 50 and explorer.gan.noise_dim == 54
    explorer.gan.fit(2)
    explorer.reset_button.click()
    assert explorer.gan.step == 0 and explorer.gan.config.pack == 4
    assert explorer.gan.config.codes == 50
