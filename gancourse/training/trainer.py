"""GANTrainer: the training loop of every PyTorch GAN in the course."""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from pathlib import Path

import torch
from tqdm.auto import tqdm

from gancourse.augment import diff_augment
from gancourse.data import ImageDataset
from gancourse.errors import BusyError, UsageError, UsageTypeError
from gancourse.losses import (
    auxiliary_loss,
    clip_weights,
    d_loss,
    g_loss,
    gradient_penalty,
    zero_centred_penalty,
)
from gancourse.models import Discriminator, Generator
from gancourse.models.size import check_fits_in_memory
from gancourse.runtime import get_device, seed_everything
from gancourse.training import checkpoint
from gancourse.training.callbacks import (
    Callback,
    CancelFit,
    NonFiniteGuard,
    NonFiniteLossError,
)
from gancourse.training.config import (
    SYNC_EVERY_CUDA,
    TrainConfig,
    check_count,
    check_lr,
    preset,
)
from gancourse.training.ema import WeightAverage
from gancourse.training.events import Event, as_event
from gancourse.training.undo import StepUndo


class GANTrainer:
    """Trains G and D on an ImageDataset: d_steps D updates, then g_steps G updates.

    `lr_d`, `lr_g`, `d_steps` and `g_steps` can be changed while `fit` runs
    (the live panel does this); each takes effect at the next step.

    `history` maps a figure's name to a list. The step's own figures (loss_d,
    loss_g, d_real, d_fake; wasserstein, gp, class_acc where the GAN has them)
    get one value per step, in line with history["step"]. A figure measured at
    other steps is kept by `record(name, value)`: its values under `name`, the
    steps they were measured at under `name + "_step"`.
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        dataset: ImageDataset,
        config: TrainConfig | None = None,
        *,
        device: str | torch.device | None = None,
        callbacks: list[Callback] = (),
        progress: bool = True,
    ):
        self.config = (config or TrainConfig()).check()
        self.device = get_device(device if device is None else str(device))
        self._check_data(generator, discriminator, dataset)
        self.on_cuda = self.device.type == "cuda"
        self.amp = self.on_cuda if self.config.amp is None else self.config.amp
        if self.amp and self.device.type not in ("cuda", "cpu"):
            raise UsageError(
                f"amp=True (bf16 autocast) runs on CUDA or a CPU, not on "
                f"{self.device.type}: use amp=None or amp=False there."
            )
        seed_everything(self.config.seed)
        # channels-last convs are faster on CUDA and on CPUs (oneDNN); not on MPS
        self.memory_format = (
            torch.channels_last
            if self.device.type in ("cuda", "cpu")
            else torch.preserve_format
        )
        if self.on_cuda:
            torch.backends.cudnn.benchmark = True
        self.G = generator.to(self.device, memory_format=self.memory_format)
        self.D = discriminator.to(self.device, memory_format=self.memory_format)
        # the training passes, compiled when asked (the modules keep the weights)
        self.compiled = bool(self.config.compile)
        self._g_forward = torch.compile(self.G) if self.compiled else self.G
        self._d_forward = torch.compile(self.D) if self.compiled else self.D
        self.dataset = dataset
        # the whole dataset lives on the device: no DataLoader, no per-batch copies
        self.images = dataset.images.to(self.device, memory_format=self.memory_format)
        self.labels = dataset.labels.to(self.device)
        self.conditional = generator.config.conditioning != "none"
        self.num_classes = generator.config.num_classes
        self.opt_d = self._optimizer(self.D, self.config.lr_d)
        self.opt_g = self._optimizer(self.G, self.config.lr_g)
        # the generator samples come from: a moving average of G, or G itself
        self.g_average = (
            WeightAverage(self.G, self.config.ema) if self.config.ema > 0 else None
        )
        self.noise_rng = torch.Generator(self.device).manual_seed(self.config.seed)
        fixed_rng = torch.Generator(self.device).manual_seed(self.config.seed + 1)
        self.fixed_noise = self.G.sample_noise(
            self.config.n_fixed, self.device, fixed_rng
        )  # (n_fixed, z_dim), the same for every grid
        self.fixed_labels = (
            torch.arange(self.config.n_fixed, device=self.device) % self.num_classes
            if self.conditional
            else None
        )
        self.step = 0  # training steps done
        self.epoch = 0  # passes over the data done
        self.batch_in_epoch = 0  # position in this epoch's data order
        self._order: torch.Tensor | None = None  # this epoch's permutation
        self._order_epoch: int | None = None
        self._epochs_ended = 0  # epochs whose last batch this step used
        self._last_fake = None  # (fake, labels) of the last D update, for the G step
        self._last_real = None  # (real, labels) of the last D update, for the G step
        self.history: dict[str, list[float]] = {}  # see the class docstring
        self.guard = NonFiniteGuard()
        self.callbacks = sorted([self.guard, *callbacks], key=lambda c: c.order)
        self.progress = progress
        self.stop_requested = False
        self.fitting = False  # True while fit runs (a live panel may run it)
        self.stop_reason: str | None = None
        self.step_figures: dict[str, torch.Tensor] = {}
        self.current_loss: torch.Tensor | None = None
        self._undo = StepUndo()  # the state at this step's start
        self._in_step = False  # True from a step's first change to its record
        # the step's figures stay on the device until the host reads them, every
        # sync_every steps (a read waits for the GPU): see _sync
        self.sync_every = self.config.sync_every or (
            SYNC_EVERY_CUDA if self.on_cuda else 1
        )
        self._pending: list[tuple[int, list[str], torch.Tensor]] = []
        self._finite: dict[str, torch.Tensor] = {}  # this step's losses all finite?
        # the state where the unread steps began: a NaN found in them goes back here
        self._window = self._undo if self.sync_every == 1 else StepUndo()
        self._replaying = False  # redoing steps callbacks have seen: no events
        # held for a whole step, and by generate/save/state: another thread (a
        # notebook cell while the live panel trains) waits for the step to end
        self._lock = threading.RLock()

    # ---- building -------------------------------------------------------------

    @classmethod
    def from_preset(
        cls,
        kind: str,
        dataset: ImageDataset,
        *,
        g: dict | None = None,
        d: dict | None = None,
        device=None,
        callbacks: list[Callback] = (),
        progress: bool = True,
        **train: object,
    ) -> GANTrainer:
        """A trainer for `kind` ('dcgan', 'wgan', ...) sized to `dataset`.

        `g` and `d` override GeneratorConfig / DiscriminatorConfig fields,
        other keywords override TrainConfig fields (lr_d=..., d_steps=...).
        """
        channels, size, _ = dataset.image_shape
        setup = preset(
            kind, image_size=size, channels=channels, num_classes=dataset.num_classes
        )
        setup.generator.update(g)
        setup.discriminator.update(d)
        setup.train.update(train)
        check_fits_in_memory(
            setup.generator.check(), setup.discriminator.check(), get_device(device)
        )
        seed_everything(setup.train.seed)  # the same seed gives the same weights
        return cls(
            Generator(setup.generator),
            Discriminator(setup.discriminator),
            dataset,
            setup.train,
            device=device,
            callbacks=callbacks,
            progress=progress,
        )

    def _check_data(self, G: Generator, D: Discriminator, dataset) -> None:
        """The dataset must fit the models: shape, labels, size."""
        if not isinstance(dataset, ImageDataset):
            raise UsageTypeError(
                f"GANTrainer trains on an image dataset, got {type(dataset).__name__}; "
                "load one with gancourse.data.load_dataset('mnist-5k')."
            )
        g = G.config
        if dataset.image_shape != (g.channels, g.image_size, g.image_size):
            raise UsageError(
                f"dataset {dataset.name!r} has images of shape {dataset.image_shape} "
                f"but the generator makes {(g.channels, g.image_size, g.image_size)}: "
                "load the data with a matching image_size, or build the models for "
                "the data's size and channels."
            )
        if (D.config.channels, D.config.image_size) != (g.channels, g.image_size):
            raise UsageError(
                f"the generator makes {g.channels}-channel {g.image_size} px images "
                f"but the discriminator takes {D.config.channels}-channel "
                f"{D.config.image_size} px: build both for the same size."
            )
        projection = ("projection", g.num_classes) if g.conditioning != "none" else ()
        if (D.config.conditioning, D.config.num_classes) not in (
            ("none", D.config.num_classes),
            (g.conditioning, g.num_classes),
            projection,
        ):
            raise UsageError(
                f"the generator is {g.conditioning} with {g.num_classes} classes but "
                f"the discriminator is {D.config.conditioning} with "
                f"{D.config.num_classes}: build both for the same classes."
            )
        if g.conditioning != "none" and dataset.num_classes > g.num_classes:
            raise UsageError(
                f"dataset {dataset.name!r} has {dataset.num_classes} classes but the "
                f"conditional model has {g.num_classes}: build it with "
                f"num_classes={dataset.num_classes}."
            )
        if len(dataset) < self.config.batch_size:
            raise UsageError(
                f"dataset {dataset.name!r} has {len(dataset)} images, fewer than one "
                f"batch of {self.config.batch_size}: lower batch_size."
            )

    def _optimizer(self, model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        """Adam (fused on CUDA) or RMSprop, as the config says."""
        if self.config.optimizer == "rmsprop":
            return torch.optim.RMSprop(model.parameters(), lr=lr)
        return torch.optim.Adam(
            model.parameters(), lr=lr, betas=self.config.betas, fused=self.on_cuda
        )

    # ---- settings that can change while training ------------------------------

    @property
    def lr_d(self) -> float:
        return self.opt_d.param_groups[0]["lr"]

    @lr_d.setter
    def lr_d(self, value: float) -> None:
        self._set_lr("lr_d", self.opt_d, value)

    @property
    def lr_g(self) -> float:
        return self.opt_g.param_groups[0]["lr"]

    @lr_g.setter
    def lr_g(self, value: float) -> None:
        self._set_lr("lr_g", self.opt_g, value)

    def _set_lr(self, name: str, optimizer: torch.optim.Optimizer, value) -> None:
        """Check a new learning rate, then give it to the config and the optimiser."""
        check_lr(name, value)
        setattr(self.config, name, value)
        for group in optimizer.param_groups:
            group["lr"] = value

    @property
    def d_steps(self) -> int:
        return self.config.d_steps

    @d_steps.setter
    def d_steps(self, value: int) -> None:
        check_count("d_steps", value)
        self.config.d_steps = int(value)

    @property
    def g_steps(self) -> int:
        return self.config.g_steps

    @g_steps.setter
    def g_steps(self, value: int) -> None:
        check_count("g_steps", value)
        self.config.g_steps = int(value)

    def record(self, name: str, value: float) -> None:
        """Keep a figure measured now: value in history[name], step in name_step.

        For figures a callback measures at some steps (CollapseMonitor's
        diversity); the step's own figures (loss_d, ...) are kept by the trainer.
        """
        steps = f"{name}_step"
        per_step = name in self.step_figures or (
            name in self.history and steps not in self.history
        )
        if name == "step" or name.endswith("_step") or per_step:
            raise UsageError(
                f"cannot record {name!r}: it is a name the trainer keeps itself "
                "(the step, a per-step figure or a step list); choose another name."
            )
        self.history.setdefault(name, []).append(float(value))
        self.history.setdefault(steps, []).append(self.step)

    def _record_step(self) -> None:
        """Keep the step's figures, on the device, until the host next reads them."""
        figures = {**self.step_figures}
        figures |= {f"_finite_{who}": ok for who, ok in self._finite.items()}
        names = list(figures)
        row = torch.stack([figures[n].float() for n in names])  # (len(names),)
        self._pending.append((self.step, names, row))

    def _must_sync(self) -> bool:
        """Read the figures now: enough steps waited, or someone reads the trainer."""
        return (
            self._replaying
            or len(self._pending) >= self.sync_every
            or self._epochs_ended > 0
            or any(c.acts_at(self.step) for c in self.callbacks)
        )

    def _sync(self) -> None:
        """Read the waiting steps' figures (one copy to the host) into history.

        A step whose loss was not finite: go back to the state after the step
        before it and raise the guard's NonFiniteLossError.
        """
        if not self._pending:
            return
        pending = self._pending  # kept until history holds them: Ctrl-C loses none
        rows = torch.stack([row for _, _, row in pending]).tolist()  # one host sync
        good, bad = [], None
        for (step, names, _), row in zip(pending, rows, strict=True):
            figures = dict(zip(names, row, strict=True))
            who = self.guard.problem(figures)
            if who is not None:
                value = figures["loss_d" if who == "discriminator" else "loss_g"]
                bad = step, who, value
                break
            good.append((step, figures))
        self._add_rows(good)
        if bad is not None:
            self._rewind(bad[0])
            raise self.guard.stop(self, *bad)

    def _add_rows(self, rows: list[tuple[int, dict]]) -> None:
        """Add the read steps to history and empty the queue: all, or on Ctrl-C none."""
        columns = {"step"} | {name for _, figures in rows for name in figures}
        lengths = {
            name: len(self.history[name]) for name in columns & self.history.keys()
        }
        try:
            for step, figures in rows:
                for name, value in figures.items():
                    if not name.startswith("_finite_"):
                        self.history.setdefault(name, []).append(value)
                self.history.setdefault("step", []).append(step)
            self._pending = []
        except KeyboardInterrupt:
            for name in columns & self.history.keys():
                if name in lengths:
                    del self.history[name][lengths[name] :]
                else:  # a column this call began
                    del self.history[name]
            raise

    def _rewind(self, bad_step: int) -> None:
        """Return to the state after bad_step - 1: the window's start, then redo."""
        self._window.restore(self)
        self._in_step = False
        self._replaying = True  # callbacks saw these steps already
        try:
            while self.step < bad_step - 1:
                self._epochs_ended = 0
                self.train_step()  # reads every step; a NaN now raises from here
        finally:
            self._replaying = False

    @property
    def batches_per_epoch(self) -> int:
        return len(self.images) // self.config.batch_size

    # ---- data and noise -------------------------------------------------------

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        """The data order of one epoch: a permutation fixed by (seed, epoch)."""
        rng = torch.Generator().manual_seed(self.config.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.images), generator=rng).to(self.device)

    def next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next real batch (images (B, C, H, W), labels (B,)), flipped if asked."""
        if self.batch_in_epoch >= self.batches_per_epoch:
            self.epoch += 1
            self.batch_in_epoch = 0
        if self._order is None or self._order_epoch != self.epoch:
            self._order, self._order_epoch = self._epoch_order(self.epoch), self.epoch
        size = self.config.batch_size
        start = self.batch_in_epoch * size
        index = self._order[start : start + size]
        self.batch_in_epoch += 1
        if self.batch_in_epoch == self.batches_per_epoch:
            self._epochs_ended += 1  # this epoch's data is used up
        images, labels = self.images[index], self.labels[index]
        if self.dataset.flip:  # each image flipped left-right with probability 0.5
            flip = torch.rand(size, device=self.device, generator=self.noise_rng) < 0.5
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        return images, labels

    def noise(self, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """n noise vectors and, for a conditional GAN, n random labels."""
        z = self.G.sample_noise(n, self.device, self.noise_rng)  # (n, z_dim)
        if not self.conditional:
            return z, None
        labels = torch.randint(
            self.num_classes, (n,), device=self.device, generator=self.noise_rng
        )
        return z, labels

    def _autocast(self):
        """bf16 autocast on the trainer's device when amp is on; nothing otherwise."""
        if self.amp:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ---- one training step ----------------------------------------------------

    def d_update(self) -> None:
        """One update of D (the critic) on a real batch and a fake batch."""
        real, labels = self.next_batch()
        z, _ = self.noise(len(real))
        fake_labels = labels if self.conditional else None
        c = self.config
        with self._autocast():
            fake = self._g_forward(z, fake_labels)  # (B, C, H, W)
            real_in, fake_in = self._augment(real), self._augment(fake.detach())
            # fake.detach(): this update must not reach G's weights
            real_out = self._d(real_in, labels)
            fake_out = self._d(fake_in, fake_labels)
            loss = d_loss(c.loss, real_out[0], fake_out[0])
            if real_out[1] is not None:  # ACGAN: classify real and fake
                loss = loss + c.aux_weight * (
                    auxiliary_loss(real_out[1], labels)
                    + auxiliary_loss(fake_out[1], fake_labels)
                )
                self.step_figures["class_acc"] = (
                    (real_out[1].argmax(1) == labels).float().mean().detach()
                )
            d_labels = fake_labels if self._d_takes_labels else None
            if c.gp_weight > 0:
                penalty = gradient_penalty(
                    self.D, real_in, fake_in, d_labels, generator=self.noise_rng
                )
                loss = loss + c.gp_weight * penalty
                self.step_figures["gp"] = penalty.detach()
            lazy = c.penalty_every
            for name, gamma, images in (
                ("r1", c.r1_gamma, real_in),
                ("r2", c.r2_gamma, fake_in),
            ):
                if gamma > 0 and self.step % lazy == 0:  # zero-centred, every k-th step
                    penalty = zero_centred_penalty(self.D, images, d_labels)
                    loss = loss + lazy * gamma / 2 * penalty  # k times: the same mean
                    self.step_figures[name] = penalty.detach()
                elif gamma > 0:  # not measured at this step
                    self.step_figures[name] = torch.tensor(math.nan, device=self.device)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.current_loss = loss
        self._track_finite("d", loss)
        self._event(Event.after_d_backward)  # gradients set, weights not yet moved
        self.opt_d.step()
        if c.clip is not None:  # WGAN: clip after the step, never before
            clip_weights(self.D, c.clip)
        self._last_fake = (fake, fake_labels)  # reused by the next G update
        self._last_real = (real, labels)  # the relativistic G loss pairs with it
        self.step_figures["loss_d"] = loss.detach()
        self.step_figures["d_real"] = self._score(real_out[0])
        self.step_figures["d_fake"] = self._score(fake_out[0])
        if c.loss == "wasserstein":
            self.step_figures["wasserstein"] = (
                real_out[0].mean() - fake_out[0].mean()
            ).detach()
        self._event(Event.after_d_update)

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        """DiffAugment's policy on images D is about to see; them unchanged if none."""
        if self.config.augment is None:
            return images
        return diff_augment(images, self.config.augment, generator=self.noise_rng)

    def g_update(self) -> None:
        """One update of G through a frozen D.

        The first G update of a step reuses the last D update's fake batch (as
        pytorch/examples' DCGAN does), saving one pass through G.
        """
        reuse, self._last_fake = self._last_fake, None
        self.D.requires_grad_(False)  # D's weights get no gradient in the G step
        try:
            with self._autocast():
                if reuse is not None:
                    fake, labels = reuse
                else:
                    z, labels = self.noise(self.config.batch_size)
                    fake = self._g_forward(z, labels)
                out, class_logits = self._d(self._augment(fake), labels)
                real_out = None
                if self.config.loss == "relativistic":  # paired with real images
                    real, real_labels = self._last_real or self.next_batch()
                    real_out = self._d(self._augment(real), real_labels)[0].detach()
                loss = g_loss(self.config.loss, out, real_out)
                if class_logits is not None:
                    loss = loss + self.config.aux_weight * auxiliary_loss(
                        class_logits, labels
                    )
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            self.D.requires_grad_(True)
        self.current_loss = loss
        self._track_finite("g", loss)
        self._event(Event.after_g_backward)  # gradients set, weights not yet moved
        self.opt_g.step()
        if self.g_average is not None:
            self.g_average.update(self.G)
        self.step_figures["loss_g"] = loss.detach()
        self._event(Event.after_g_update)

    def _track_finite(self, who: str, loss: torch.Tensor) -> None:
        """Note on the device (no host sync) whether this update's loss was finite."""
        ok = torch.isfinite(loss.detach())
        self._finite[who] = ok if who not in self._finite else self._finite[who] & ok

    @property
    def _d_takes_labels(self) -> bool:
        return self.D.takes_labels

    def _d(self, images, labels):
        """D's (logits, class logits or None), passing labels where D takes them."""
        D = self._d_forward
        out = D(images, labels) if self._d_takes_labels else D(images)
        return out if isinstance(out, tuple) else (out, None)

    def _score(self, logits: torch.Tensor) -> torch.Tensor:
        """D(x) as a probability for BCE losses, else the critic's mean score."""
        if self.config.loss in ("minimax", "non-saturating"):
            return torch.sigmoid(logits.detach().float()).mean()
        return logits.detach().float().mean()

    @torch.enable_grad()  # and on the way out puts back a no_grad Ctrl-C cut short
    def train_step(self) -> None:
        """d_steps D updates, then g_steps G updates."""
        with self._lock:
            if not self._pending and self._window is not self._undo:
                self._window.take(self)  # the first step the host has not read
            self._undo.take(self)
            self._in_step = True
            self.step_figures, self._finite = {}, {}
            self._event(Event.before_step)
            for _ in range(self.config.d_steps):
                self.d_update()
            for _ in range(self.config.g_steps):
                self.g_update()
            self.step += 1
            self._record_step()
            self._in_step = False
            if self._must_sync():
                self._sync()  # a NaN in the window: back to the last good step
        self._event(Event.after_step)

    def undo_step(self) -> None:
        """Take back the step in progress: weights, optimisers, data, RNGs, history."""
        with self._lock:
            if self._in_step:
                self._undo.restore(self)
                self._in_step = False

    # ---- the loop -------------------------------------------------------------

    def _event(self, event: Event) -> None:
        """Call every callback at `event`; a name that is not an Event is refused."""
        event = as_event(event)
        if self._replaying:
            return
        for callback in self.callbacks:
            callback(event, self)

    def add_callback(self, callback: Callback) -> None:
        """Add a callback; it takes part from the next event on."""
        self.callbacks = sorted([*self.callbacks, callback], key=lambda c: c.order)

    def remove_callback(self, callback: Callback) -> None:
        """Take a callback out; it gets no event after the current one."""
        self.callbacks = [c for c in self.callbacks if c is not callback]

    @property
    def epochs_done(self) -> int:
        """Passes over the data completed, counting one whose last batch is used."""
        return self.epoch + (self.batch_in_epoch >= self.batches_per_epoch)

    def fit(self, steps: int | None = None, epochs: int | None = None) -> GANTrainer:
        """Train for `steps` more steps or `epochs` more passes over the data."""
        if (steps is None) == (epochs is None):
            raise UsageError("give fit either steps=N or epochs=N (one of them).")
        if steps is not None:
            check_count("steps", steps)
        else:
            check_count("epochs", epochs)
        target_epochs = self.epochs_done + (epochs or 0)
        if epochs is not None:  # an estimate for the progress bar
            steps = -(-epochs * self.batches_per_epoch // self.config.d_steps)

        def more() -> bool:
            if epochs is not None:
                return self.epochs_done < target_epochs
            return done < steps

        if self.fitting:
            raise BusyError(
                "this trainer is already training (a live panel may run it in the "
                "background): stop the panel or call panel.wait() first."
            )
        self.fitting = True
        self.stop_requested, self.stop_reason = False, None
        self._order, self._order_epoch = None, None
        bar = tqdm(total=steps, disable=not self.progress, desc=self.config.kind)
        done = 0
        try:
            self._event(Event.before_fit)
            while more():
                if self.stop_requested:
                    raise CancelFit("stopped on request")
                self._epochs_ended = 0
                self.train_step()
                done += 1
                bar.update(1)
                if done % 10 == 0:
                    bar.set_postfix(self._postfix(), refresh=False)
                for _ in range(self._epochs_ended):  # 2+ if d_steps > batches
                    self._event(Event.after_epoch)
            with self._lock:
                self._sync()
        except CancelFit as stop:
            self._stop_cleanly(stop)
        except KeyboardInterrupt:  # Ctrl-C: the last complete step stays
            self._stop_cleanly(None)
            self.stop_reason = self.stop_reason or "interrupted"
            raise
        finally:
            bar.close()
            self.fitting = False
        self._event(Event.after_fit)
        return self

    def _stop_cleanly(self, stop: CancelFit | None) -> None:
        """Take back a half step, then read the complete steps the host has not read.

        Reading them may find a NaN: the trainer then goes back to the step
        before it, and that becomes the reason training stopped.
        """
        with self._lock:
            self.undo_step()  # a stop inside a step leaves no half step behind
            try:
                self._sync()
            except NonFiniteLossError as found:
                stop = found
        if stop is not None:
            self.stop_reason = str(stop)
            if isinstance(stop, NonFiniteLossError):
                print(stop, file=sys.stderr)

    def _postfix(self) -> dict[str, str]:
        return {
            name: f"{values[-1]:.3f}"
            for name, values in self.history.items()
            if name in ("loss_d", "loss_g", "d_real", "d_fake") and values
        }

    # ---- sampling -------------------------------------------------------------

    @torch.no_grad()
    def generate(self, n: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n new images (n, C, H, W) in [-1, 1] on the CPU, from G in eval mode."""
        check_count("n", n)
        labels = self._check_labels(n, labels)
        with self._lock:
            z, random_labels = self.noise(n)
            if self.conditional and labels is None:
                labels = random_labels
            return self._sample(z, labels)

    def _check_labels(self, n: int, labels) -> torch.Tensor | None:
        """Labels for generate(): n class indices of G, as a tensor, or None."""
        if labels is None:
            return None
        if not self.conditional:
            raise UsageError(
                "labels= is for conditional GANs (cgan, acgan); this generator "
                "takes no labels: call generate(n)."
            )
        if not isinstance(labels, torch.Tensor):
            raise UsageTypeError(
                f"labels must be a tensor of class indices, got "
                f"{type(labels).__name__}: pass torch.tensor({labels!r})."
            )
        if labels.shape != (n,) or labels.is_floating_point():
            raise UsageError(
                f"labels must be {n} whole class indices, shape ({n},), got shape "
                f"{tuple(labels.shape)} of {labels.dtype}."
            )
        if n and not (0 <= labels.min() and labels.max() < self.num_classes):
            raise UsageError(
                f"labels must lie in 0..{self.num_classes - 1} (this G's classes), "
                f"got {labels.min().item()}..{labels.max().item()}."
            )
        return labels.long()

    @torch.no_grad()
    def sample_from(self, z: torch.Tensor, labels=None) -> torch.Tensor:
        """G(z) (and labels) in eval mode, on the CPU; the run's RNG is not touched."""
        with self._lock:
            return self._sample(z, labels)

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """G(fixed noise): the same z every time, so grids show training progress."""
        with self._lock:
            return self._sample(self.fixed_noise, self.fixed_labels)

    @property
    def sampler(self) -> Generator:
        """The generator samples come from: G's moving average if kept, else G."""
        return self.g_average.model if self.g_average is not None else self.G

    def _sample(self, z, labels) -> torch.Tensor:
        G = self.sampler
        was_training = G.training
        G.eval()
        try:
            with self._autocast():
                images = G(z, labels.to(self.device) if labels is not None else None)
        finally:
            G.train(was_training)
        return images.float().cpu().contiguous()

    # ---- checkpoints (gancourse/training/checkpoint.py) ------------------------

    def state(self) -> dict:
        """Everything needed to resume exactly: weights, optimisers, RNGs, position."""
        with self._lock:
            self._sync()  # history in line with step
            return checkpoint.trainer_state(self)

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically (a killed process leaves the old one whole)."""
        with self._lock:
            self._sync()  # history in line with step
            return checkpoint.save_trainer(self, path)

    @classmethod
    def resume(
        cls,
        path: str | Path,
        dataset: ImageDataset,
        *,
        device=None,
        callbacks: list[Callback] = (),
        progress: bool = True,
    ) -> GANTrainer:
        """Continue a run from its checkpoint, exactly where it stopped."""
        return checkpoint.resume_trainer(
            cls, path, dataset, device=device, callbacks=callbacks, progress=progress
        )

    @classmethod
    def fine_tune(
        cls,
        path: str | Path,
        dataset: ImageDataset,
        *,
        device=None,
        callbacks: list[Callback] = (),
        progress: bool = True,
        **train: object,
    ) -> GANTrainer:
        """Start from a checkpoint's weights on new data, with fresh optimisers.

        Keywords other than device, callbacks and progress override the saved
        TrainConfig fields (lr_g=..., d_steps=...).
        """
        return checkpoint.fine_tune_trainer(
            cls,
            path,
            dataset,
            train,
            device=device,
            callbacks=callbacks,
            progress=progress,
        )
