"""GAN Lab's controls inside Jupyter: train the 2D NumPy GAN and watch it live."""

from __future__ import annotations

import io

import ipywidgets as widgets
from matplotlib.figure import Figure

from gancourse.data.catalog import dataset_names
from gancourse.metrics import mode_coverage
from gancourse.numpy_gans.toy import LOSSES, ToyGAN
from gancourse.plotting import plot_toy_gan
from gancourse.widgets.readout import number

LR_GRID = {"base": 10, "min": -5, "max": -1, "step": 0.25}  # 1e-5 .. 1e-1


def _log_slider(description: str, value: float) -> widgets.FloatLogSlider:
    """A learning-rate slider on a log grid that acts when released."""
    return widgets.FloatLogSlider(
        value=value,
        description=description,
        continuous_update=False,
        readout_format=".1e",
        **LR_GRID,
    )


def _ratio_slider(description: str) -> widgets.IntSlider:
    """A slider for how many updates of one network per training step."""
    return widgets.IntSlider(
        value=1, min=1, max=10, description=description, continuous_update=False
    )


def render_toy_gan(gan: ToyGAN) -> bytes:
    """PNG of real data, samples, D's heatmap and G's gradient arrows."""
    fig = Figure(figsize=(5, 5), dpi=80)
    plot_toy_gan(gan, fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


class ToyGANExplorer:
    """Sliders, buttons, a live plot and readouts around one ToyGAN."""

    def __init__(self, dataset="ring8", loss="non-saturating", pack=1, **options):
        self.options = dict(options, decay=0.0)  # constant lr: the sliders rule
        self.steps_per_tick = 25
        self.burst_steps = 200  # trained after a slider change while paused
        self.lr_d = _log_slider("lr D", 1e-3)
        self.lr_g = _log_slider("lr G", 1e-3)
        self.d_steps = _ratio_slider("D steps")
        self.g_steps = _ratio_slider("G steps")
        self.dataset = widgets.Dropdown(options=dataset_names("toy"), value=dataset)
        self.dataset.description = "dataset"
        self.loss = widgets.Dropdown(options=list(LOSSES), value=loss)
        self.loss.description = "loss"
        self.pack = widgets.Dropdown(options=[1, 2, 4], value=pack)
        self.pack.description = "pack"  # PacGAN: D judges this many samples at once
        self.codes = widgets.Dropdown(options=[0, 25, 50], value=0)
        self.codes.description = "codes"  # InfoGAN: one-hot codes that Q reads back
        self.play = widgets.Play(value=0, min=0, max=10**9, interval=150)
        self.step_d_button = widgets.Button(description="step D")
        self.step_g_button = widgets.Button(description="step G")
        self.reset_button = widgets.Button(description="reset")
        self.readout = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.gan = self._new_gan()
        self._connect()
        self.redraw()

    def _new_gan(self) -> ToyGAN:
        """A fresh ToyGAN with the current dataset, loss, packing, codes and sliders."""
        return ToyGAN(
            dataset=self.dataset.value,
            loss=self.loss.value,
            pack=self.pack.value,
            codes=self.codes.value,
            lr_d=self.lr_d.value,
            lr_g=self.lr_g.value,
            d_steps=self.d_steps.value,
            g_steps=self.g_steps.value,
            **self.options,
        )

    def _connect(self) -> None:
        """Wire every control to what it changes."""
        for slider in (self.lr_d, self.lr_g, self.d_steps, self.g_steps):
            slider.observe(self._on_setting, names="value")
        for control in (self.dataset, self.loss, self.pack, self.codes):
            control.observe(self._on_rebuild, names="value")
        self.play.observe(self._on_tick, names="value")
        self.step_d_button.on_click(lambda _: self._step(self.gan.d_update))
        self.step_g_button.on_click(lambda _: self._step(self.gan.g_update))
        self.reset_button.on_click(lambda _: self._on_rebuild(None))

    def _on_setting(self, change) -> None:
        """A learning rate or ratio changed: apply it; while paused, train a burst."""
        self.gan.lr_d, self.gan.lr_g = self.lr_d.value, self.lr_g.value
        self.gan.d_steps, self.gan.g_steps = self.d_steps.value, self.g_steps.value
        if not self.play.playing:
            self.gan.fit(self.burst_steps)
        self.redraw()

    def _on_rebuild(self, change) -> None:
        """The dataset, loss, packing or codes changed (or reset): start a new GAN."""
        self.gan = self._new_gan()
        self.redraw()

    def _on_tick(self, change) -> None:
        """The play widget ticked: train a few steps and redraw."""
        self.gan.fit(self.steps_per_tick)
        self.redraw()

    def _step(self, update) -> None:
        """One update of D or of G alone, as GAN Lab's step buttons do."""
        update()
        self.redraw()

    def summary(self) -> dict[str, float]:
        """The latest losses, D outputs and mode coverage."""
        history = self.gan.history
        covered, quality = mode_coverage(
            self.gan.sample(2000, seed=1), self.gan.dataset
        )
        latest = {k: (v[-1] if v else float("nan")) for k, v in history.items()}
        return dict(latest, modes=covered, high_quality=quality)

    def redraw(self) -> None:
        """Refresh the plot and the readout."""
        s = self.summary()
        self.readout.value = (
            f"<b>step {self.gan.step}</b> (D updates {self.gan.d_updates}, "
            f"G updates {self.gan.g_updates}) &nbsp; "
            f"D loss {number(s['loss_d'], '.3f')} &nbsp; "
            f"G loss {number(s['loss_g'], '.3f')} &nbsp; "
            f"D(real) {number(s['d_real'], '.2f')} &nbsp; "
            f"D(fake) {number(s['d_fake'], '.2f')} &nbsp; modes covered "
            f"<b>{s['modes']}/{self.gan.dataset.num_modes}</b>, high quality "
            f"{100 * s['high_quality']:.0f}%"
        )
        self.image.value = render_toy_gan(self.gan)

    def widget(self) -> widgets.Widget:
        """The whole explorer as one widget to display."""
        buttons = widgets.HBox(
            [self.play, self.step_d_button, self.step_g_button, self.reset_button]
        )
        controls = widgets.VBox(
            [
                self.dataset,
                self.loss,
                self.pack,
                self.codes,
                self.lr_d,
                self.lr_g,
                self.d_steps,
                self.g_steps,
                buttons,
            ]
        )
        return widgets.VBox([widgets.HBox([controls, self.image]), self.readout])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget())


def toy_gan_explorer(dataset="ring8", loss="non-saturating", pack=1, **options):
    """The explorer for the 2D NumPy GAN; display it as a notebook cell's result."""
    return ToyGANExplorer(dataset=dataset, loss=loss, pack=pack, **options)
