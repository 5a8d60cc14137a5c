"""A live panel for a GANTrainer: sliders and buttons that act on the run as it trains.

In a notebook with a person at it, training runs in a background thread, so the
kernel stays free to receive slider moves and clicks. Headless (runtime.HEADLESS,
as under pytest and nbval) the panel trains before the cell returns.
"""

from __future__ import annotations

import html
import io
import math
import threading
import time
import weakref

import ipywidgets as widgets
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from torchvision.utils import make_grid

from gancourse import runtime
from gancourse.errors import BusyError, UsageTypeError
from gancourse.plotting import plot_losses
from gancourse.training import Callback, CancelFit, GANTrainer
from gancourse.training.config import check_count
from gancourse.widgets.readout import number, short_lr

LR_LOW, LR_HIGH, LR_STEP = -5.0, -2.0, 0.25  # 1e-5 .. 1e-2 in quarter decades
STOPPED_ON_REQUEST = "stopped on request"  # the reason GANTrainer.fit records
BUSY = ("running", "pausing", "paused", "stopping")  # states of a run under way

# trainer -> the panel training it now
_TRAINING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
TAKE_OVER_TIMEOUT_S = 60  # how long a new panel waits for an earlier run to stop


def lr_exponents(value: float) -> tuple[float, float]:
    """(min, max) powers of ten of a quarter-decade grid through `value`.

    The grid covers at least 1e-5 .. 1e-2 and holds `value` itself, so the
    slider starts at the trainer's learning rate and can come back to it.
    """
    exponent = math.log10(value)
    below = max(0, math.ceil(round((exponent - LR_LOW) / LR_STEP, 6)))
    above = max(0, math.ceil(round((LR_HIGH - exponent) / LR_STEP, 6)))
    return exponent - below * LR_STEP, exponent + above * LR_STEP


def lr_slider(description: str, value: float) -> widgets.FloatLogSlider:
    """A learning-rate slider on a log grid through `value`, acting when released."""
    low, high = lr_exponents(value)
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=low,
        max=high,
        step=LR_STEP,
        description=description,
        continuous_update=False,
        readout_format=".1e",  # 2.0e-4, as the status line writes it (short_lr)
    )


def ratio_slider(description: str, value: int) -> widgets.IntSlider:
    """A slider for how many updates of one network per training step."""
    return widgets.IntSlider(
        value=value,
        min=1,
        max=max(10, value),
        description=description,
        continuous_update=False,
    )


def render_samples(trainer: GANTrainer, width: int = 480) -> bytes:
    """PNG of G(fixed noise) as a grid, scaled up by whole pixels to about `width`."""
    images = trainer.fixed_samples()[:64]  # (n, C, H, W) in [-1, 1]
    grid = make_grid(
        images,
        nrow=min(8, len(images)),
        normalize=True,
        value_range=(-1, 1),
        pad_value=1.0,
    )  # (3, H', W') in [0, 1]
    scale = max(1, round(width / grid.shape[-1]))
    pixels = grid.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    picture = Image.fromarray(pixels)  # (H', W', 3)
    picture = picture.resize(
        (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="png")
    return buffer.getvalue()


def render_losses(history: dict, step: int) -> bytes:
    """PNG of the loss curves so far, drawn on an Agg canvas (no pyplot, any thread)."""
    figure = Figure(figsize=(4.5, 2.8), dpi=80)
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    if history.get("loss_d"):
        plot_losses(history, ax=ax)
    else:
        ax.text(0.5, 0.5, "no steps yet", ha="center", transform=ax.transAxes)
        ax.set_xlabel("step")
    ax.set_title(f"losses up to step {step}")
    figure.tight_layout()
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()


class PanelCallback(Callback):
    """The panel's hook in the trainer: applies settings, pauses, redraws.

    It handles before_fit, before_step and after_step; a slider moved during a
    step is applied at the step's end, so no step mixes two settings.
    """

    order = 100  # after every other callback, so a pause waits for them all

    def __init__(self, panel: TrainingPanel):
        self.panel: TrainingPanel | None = panel  # None: the run ended, do nothing

    def __call__(self, event: str, trainer: GANTrainer) -> None:
        if self.panel is not None:
            super().__call__(event, trainer)

    def before_fit(self, trainer: GANTrainer) -> None:
        self.panel._before_fit()

    def before_step(self, trainer: GANTrainer) -> None:
        self.panel._before_step()

    def after_step(self, trainer: GANTrainer) -> None:
        self.panel._after_step()


class TrainingPanel:
    """Sliders, buttons, live samples, loss curves and a status line for one run."""

    status_interval = 0.25  # seconds between status refreshes while training

    def __init__(self, trainer: GANTrainer, steps: int, every: int = 50):
        if not isinstance(trainer, GANTrainer):
            raise UsageTypeError(
                f"training_panel drives a GANTrainer, got {type(trainer).__name__}; "
                "build one with GANTrainer.from_preset('dcgan', dataset)."
            )
        check_count("steps", steps)
        check_count("every", every)
        self.trainer, self.steps, self.every = trainer, int(steps), int(every)
        self.lr_d = lr_slider("lr D", trainer.lr_d)
        self.lr_g = lr_slider("lr G", trainer.lr_g)
        self.d_steps = ratio_slider("D steps", trainer.d_steps)
        self.g_steps = ratio_slider("G steps", trainer.g_steps)
        self.pause_button = widgets.Button(description="pause", icon="pause")
        self.resume_button = widgets.Button(description="resume", icon="play")
        self.stop_button = widgets.Button(description="stop", icon="stop")
        self.status = widgets.HTML()
        self.sample_image = widgets.Image(format="png")
        self.loss_image = widgets.Image(format="png")
        self.state = "ready"  # running, pausing, paused, stopping, then ...
        # ... finished (all steps), stopped (button or stop_reason) or failed
        self.stop_reason: str | None = None
        self.error: BaseException | None = None
        self.note: str | None = None  # e.g. that an earlier run was stopped
        self.done = 0  # steps trained in this run
        self.images_per_second = float("nan")
        self.callback = PanelCallback(self)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards state and pending settings
        self._go = threading.Event()  # cleared: pause after the current step
        self._go.set()
        self._in_step = False
        self._pending: dict[str, float | int] = {}
        self._stop_asked = False
        self._clock, self._images, self._last_status = time.perf_counter(), 0, 0.0
        self._widget: widgets.Widget | None = None
        self._shown_in: int | None = None
        self._connect()
        self.redraw()

    # ---- controls --------------------------------------------------------------

    def _connect(self) -> None:
        """Wire every control to what it changes."""
        for name in ("lr_d", "lr_g", "d_steps", "g_steps"):
            slider = getattr(self, name)
            slider.observe(lambda change, n=name: self._change(n, change.new), "value")
        self.pause_button.on_click(lambda _: self.pause())
        self.resume_button.on_click(lambda _: self.resume())
        self.stop_button.on_click(lambda _: self.stop())

    def _change(self, name: str, value: float | int) -> None:
        """A slider moved: set the trainer now if no step is under way, else next."""
        with self._lock:
            self._pending[name] = value
            if not self._in_step:
                self._apply_pending()
        self.show_status()

    def _apply_pending(self) -> None:
        """Hand waiting slider values to the trainer (call with the lock held)."""
        for name, value in self._pending.items():
            setattr(self.trainer, name, value)
        self._pending.clear()

    @property
    def running(self) -> bool:
        """True from start() until the run has ended."""
        return self.state in BUSY

    def pause(self) -> None:
        """Pause a background run after its current step (slider moves still apply)."""
        with self._lock:
            if self.state != "running" or self._thread is None:
                return  # headless runs never pause: nothing could resume them
            self._go.clear()
            self.state = "pausing"
        self.show_status()

    def resume(self) -> None:
        """Carry on after a pause."""
        with self._lock:
            if self.state not in ("pausing", "paused"):
                return
            self.state = "running"
            self._go.set()
        self.show_status()

    def stop(self) -> None:
        """End the run after the current step; what was trained so far is kept."""
        with self._lock:
            if not self.running:
                return
            self._stop_asked = True
            self.trainer.stop_requested = True
            self.state = "stopping"
            self._go.set()  # a paused run wakes up to stop
        self.show_status()

    # ---- running ---------------------------------------------------------------

    def start(self) -> TrainingPanel:
        """Train `steps` more steps: in a background thread, or here when headless."""
        if self.running:
            raise BusyError(
                "this panel is already training: stop it (panel.stop()) or wait for "
                "it (panel.wait()) before starting it again."
            )
        self.note = self._take_over()
        _TRAINING[self.trainer] = self
        self.state, self.stop_reason, self.error = "running", None, None
        self.done, self._stop_asked = 0, False
        self.images_per_second = float("nan")
        self._go.set()
        self.show_status()
        if runtime.HEADLESS:
            self._thread = None
            self._run()
            if self.error is not None:
                raise self.error
        else:
            self._thread = threading.Thread(
                target=self._run, name="gancourse-training-panel", daemon=True
            )
            self._thread.start()
        return self

    def _take_over(self) -> str | None:
        """Stop an earlier panel's run of this trainer (e.g. one a page reload hid).

        Two runs at once would corrupt the models, and a panel whose page was
        reloaded can no longer be reached to stop it by hand.
        """
        earlier = _TRAINING.get(self.trainer)
        if earlier is None:
            return None
        earlier.stop()
        earlier.wait(TAKE_OVER_TIMEOUT_S)
        if earlier.running:
            raise BusyError(
                "this trainer is still training under an earlier panel, which did "
                f"not stop within {TAKE_OVER_TIMEOUT_S} s: call stop() on that panel, "
                "or restart the kernel."
            )
        step = earlier.trainer.step
        return f"stopped an earlier panel's run of this trainer at step {step}"

    def wait(self, timeout: float | None = None) -> TrainingPanel:
        """Block until a background run ends (or `timeout` s pass); raise its error."""
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None and not self.running:
            raise self.error
        return self

    def _run(self) -> None:
        """Train under the panel's callback, then take the callback out again."""
        trainer = self.trainer
        progress, trainer.progress = trainer.progress, False  # the panel shows it
        self.callback.panel = self
        trainer.add_callback(self.callback)
        try:
            trainer.fit(steps=self.steps)
        except KeyboardInterrupt:  # headless runs only: threads get no interrupts
            self._stop_asked = True
            raise
        except Exception as error:  # shown in the status; raised by start/wait
            self.error = error
        finally:
            trainer.callbacks = [c for c in trainer.callbacks if c is not self.callback]
            self.callback.panel = None
            trainer.progress = progress
            if _TRAINING.get(trainer) is self:
                del _TRAINING[trainer]
            self._finish()

    def _finish(self) -> None:
        """Settle the final state and show the last pictures."""
        with self._lock:
            self._in_step = False
            self._apply_pending()
            self.stop_reason = self.trainer.stop_reason
            if self.error is not None:
                self.state = "failed"
            elif self._stop_asked or self.stop_reason is not None:
                self.state = "stopped"
            else:
                self.state = "finished"
        self.redraw()

    def _before_fit(self) -> None:
        if self._stop_asked:  # stop was clicked before fit began
            raise CancelFit(STOPPED_ON_REQUEST)
        self._clock, self._images = time.perf_counter(), 0

    def _before_step(self) -> None:
        with self._lock:
            self._apply_pending()
            self._in_step = True

    def _after_step(self) -> None:
        trainer = self.trainer
        self._images += trainer.config.batch_size * trainer.d_steps  # real images
        now = time.perf_counter()
        if now - self._clock >= 0.5:  # a speed averaged over half a second or more
            self.images_per_second = self._images / (now - self._clock)
            self._clock, self._images = now, 0
        with self._lock:
            self._in_step = False
            self._apply_pending()
        self.done += 1
        if trainer.step % self.every == 0:
            self.redraw()
        elif now - self._last_status >= self.status_interval:
            self.show_status()
        if not self._go.is_set():
            self._hold()

    def _hold(self) -> None:
        """Paused: show where training stands, then block until resume or stop."""
        self.redraw()
        with self._lock:
            if self.state == "pausing":
                self.state = "paused"
        self.show_status()
        self._go.wait()
        self._clock, self._images = time.perf_counter(), 0  # a pause is no work
        self.show_status()

    # ---- drawing ---------------------------------------------------------------

    def redraw(self) -> None:
        """Refresh the sample grid, the loss curves and the status line."""
        self.sample_image.value = render_samples(self.trainer)
        self.loss_image.value = render_losses(self.trainer.history, self.trainer.step)
        self.show_status()

    def show_status(self) -> None:
        """Refresh the status line and which buttons can be clicked."""
        self._last_status = time.perf_counter()
        self.status.value = self.status_text()
        background = self._thread is not None or not runtime.HEADLESS
        self.pause_button.disabled = not (self.state == "running" and background)
        self.resume_button.disabled = self.state not in ("pausing", "paused")
        self.stop_button.disabled = not self.running

    def latest(self, name: str) -> float:
        """The last recorded value of a history figure, or nan before any step."""
        values = self.trainer.history.get(name)
        return values[-1] if values else float("nan")

    def status_text(self) -> str:
        """The status line as HTML: state, step, losses, D outputs, speed, settings."""
        t = self.trainer
        lines = [
            f"<b>{self.state}</b> &nbsp; step {t.step} ({self.done}/{self.steps} "
            f"this run) &nbsp; D loss {number(self.latest('loss_d'), '.3f')} &nbsp; "
            f"G loss {number(self.latest('loss_g'), '.3f')} &nbsp; "
            f"D(x) {number(self.latest('d_real'), '.2f')} &nbsp; "
            f"D(G(z)) {number(self.latest('d_fake'), '.2f')} &nbsp; "
            f"{number(self.images_per_second, '.0f')} images/s",
            f"lr D {short_lr(t.lr_d)}, lr G {short_lr(t.lr_g)}, "
            f"D steps {t.d_steps}, G steps {t.g_steps}",
        ]
        if self.note is not None:
            lines.append(html.escape(self.note))
        if self.error is not None:
            lines.append(html.escape(f"{type(self.error).__name__}: {self.error}"))
        elif self.stop_reason is not None:
            lines.append(html.escape(self.stop_reason))
        return "<br>".join(lines)

    def widget(self) -> widgets.Widget:
        """The whole panel as one widget to display."""
        if self._widget is None:
            buttons = widgets.HBox(
                [self.pause_button, self.resume_button, self.stop_button]
            )
            controls = widgets.VBox(
                [self.lr_d, self.lr_g, self.d_steps, self.g_steps, buttons]
            )
            self._widget = widgets.VBox(
                [
                    widgets.HBox(
                        [widgets.VBox([controls, self.loss_image]), self.sample_image]
                    ),
                    self.status,
                ]
            )
        return self._widget

    def show(self) -> None:
        """Display the panel in the notebook (nothing outside IPython)."""
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        if shell is None:
            return
        self._shown_in = shell.execution_count
        display(self.widget())

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        if shell is not None and shell.execution_count == self._shown_in:
            return  # training_panel(...) as a cell's last line: shown once already
        display(self.widget())

    def __repr__(self) -> str:
        return (
            f"TrainingPanel({self.state}, step {self.trainer.step}, "
            f"{self.done}/{self.steps} this run)"
        )


def training_panel(trainer: GANTrainer, steps: int, every: int = 50) -> TrainingPanel:
    """Show a live panel and train `steps` more steps under it, redrawing every `every`.

    With a person at the notebook, training runs in the background and this
    returns at once; headless (tests, nbval) it trains before returning.
    """
    panel = TrainingPanel(trainer, steps=steps, every=every)
    panel.show()
    return panel.start()
