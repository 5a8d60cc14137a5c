"""GANTrainer: the training loop of every PyTorch GAN in the course."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from gancourse.data import ImageDataset
from gancourse.losses import (
    auxiliary_loss,
    clip_weights,
    d_loss,
    g_loss,
    gradient_penalty,
)
from gancourse.models import (
    Discriminator,
    DiscriminatorConfig,
    Generator,
    GeneratorConfig,
)
from gancourse.runtime import get_device, seed_everything
from gancourse.training.callbacks import (
    Callback,
    CancelFit,
    History,
    NonFiniteGuard,
    NonFiniteLossError,
)
from gancourse.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    rng_states,
    save_atomic,
    set_rng_states,
)
from gancourse.training.config import TrainConfig, check_count, check_lr, preset


class GANTrainer:
    """Trains G and D on an ImageDataset: d_steps D updates, then g_steps G updates.

    `lr_d`, `lr_g`, `d_steps` and `g_steps` can be changed while `fit` runs
    (the live panel does this); each takes effect at the next step.
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
        seed_everything(self.config.seed)
        self.on_cuda = self.device.type == "cuda"
        self.amp = self.on_cuda if self.config.amp is None else self.config.amp
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
        self.dataset = dataset
        # the whole dataset lives on the device: no DataLoader, no per-batch copies
        self.images = dataset.images.to(self.device, memory_format=self.memory_format)
        self.labels = dataset.labels.to(self.device)
        self.conditional = generator.config.conditioning != "none"
        self.num_classes = generator.config.num_classes
        self.opt_d = self._optimizer(self.D, self.config.lr_d)
        self.opt_g = self._optimizer(self.G, self.config.lr_g)
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
        self.history_callback = History()
        self.callbacks = sorted(
            [self.history_callback, NonFiniteGuard(), *callbacks],
            key=lambda c: c.order,
        )
        self.progress = progress
        self.stop_requested = False
        self.fitting = False  # True while fit runs (a live panel may run it)
        self.stop_reason: str | None = None
        self.step_figures: dict[str, torch.Tensor] = {}
        self.current_loss: torch.Tensor | None = None

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
            raise TypeError(
                f"GANTrainer trains on an image dataset, got {type(dataset).__name__}; "
                "load one with gancourse.data.load_dataset('mnist-5k')."
            )
        g = G.config
        if dataset.image_shape != (g.channels, g.image_size, g.image_size):
            raise ValueError(
                f"dataset {dataset.name!r} has images of shape {dataset.image_shape} "
                f"but the generator makes {(g.channels, g.image_size, g.image_size)}: "
                "load the data with a matching image_size, or build the models for "
                "the data's size and channels."
            )
        if (D.config.channels, D.config.image_size) != (g.channels, g.image_size):
            raise ValueError("the generator and discriminator sizes differ.")
        if g.conditioning != "none" and dataset.num_classes > g.num_classes:
            raise ValueError(
                f"dataset {dataset.name!r} has {dataset.num_classes} classes but the "
                f"conditional model has {g.num_classes}: build it with "
                f"num_classes={dataset.num_classes}."
            )
        if len(dataset) < self.config.batch_size:
            raise ValueError(
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

    @property
    def history(self) -> dict[str, list[float]]:
        """Figures by name, one value per step: loss_d, loss_g, d_real, d_fake, ..."""
        return self.history_callback.values

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
        """bf16 autocast on CUDA when amp is on; nothing otherwise."""
        if self.amp and self.on_cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    # ---- one training step ----------------------------------------------------

    def d_update(self) -> None:
        """One update of D (the critic) on a real batch and a fake batch."""
        real, labels = self.next_batch()
        z, _ = self.noise(len(real))
        fake_labels = labels if self.conditional else None
        c = self.config
        with self._autocast():
            fake = self.G(z, fake_labels)  # (B, C, H, W)
            # fake.detach(): this update must not reach G's weights
            real_out = self._d(real, labels)
            fake_out = self._d(fake.detach(), fake_labels)
            loss = d_loss(c.loss, real_out[0], fake_out[0])
            if real_out[1] is not None:  # ACGAN: classify real and fake
                loss = loss + c.aux_weight * (
                    auxiliary_loss(real_out[1], labels)
                    + auxiliary_loss(fake_out[1], fake_labels)
                )
                self.step_figures["class_acc"] = (
                    (real_out[1].argmax(1) == labels).float().mean().detach()
                )
            if c.gp_weight > 0:
                penalty = gradient_penalty(
                    self.D,
                    real,
                    fake,
                    fake_labels if self._d_takes_labels else None,
                    generator=self.noise_rng,
                )
                loss = loss + c.gp_weight * penalty
                self.step_figures["gp"] = penalty.detach()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.current_loss = loss
        self._event("before_d_update")
        self.opt_d.step()
        if c.clip is not None:  # WGAN: clip after the step, never before
            clip_weights(self.D, c.clip)
        self._last_fake = (fake, fake_labels)  # reused by the next G update
        self.step_figures["loss_d"] = loss.detach()
        self.step_figures["d_real"] = self._score(real_out[0])
        self.step_figures["d_fake"] = self._score(fake_out[0])
        if c.loss == "wasserstein":
            self.step_figures["wasserstein"] = (
                real_out[0].mean() - fake_out[0].mean()
            ).detach()
        self._event("after_d_step")

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
                    fake = self.G(z, labels)
                out, class_logits = self._d(fake, labels)
                loss = g_loss(self.config.loss, out)
                if class_logits is not None:
                    loss = loss + self.config.aux_weight * auxiliary_loss(
                        class_logits, labels
                    )
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            self.D.requires_grad_(True)
        self.current_loss = loss
        self._event("before_g_update")
        self.opt_g.step()
        self.step_figures["loss_g"] = loss.detach()
        self._event("after_g_step")

    @property
    def _d_takes_labels(self) -> bool:
        return self.D.config.conditioning == "cgan"

    def _d(self, images, labels):
        """D's (logits, class logits or None), passing labels where D takes them."""
        out = self.D(images, labels) if self._d_takes_labels else self.D(images)
        return out if isinstance(out, tuple) else (out, None)

    def _score(self, logits: torch.Tensor) -> torch.Tensor:
        """D(x) as a probability for BCE losses, else the critic's mean score."""
        if self.config.loss in ("minimax", "non-saturating"):
            return torch.sigmoid(logits.detach().float()).mean()
        return logits.detach().float().mean()

    def train_step(self) -> None:
        """d_steps D updates, then g_steps G updates."""
        self.step_figures = {}
        self._event("before_step")
        for _ in range(self.config.d_steps):
            self.d_update()
        for _ in range(self.config.g_steps):
            self.g_update()
        self.step += 1
        self._event("after_step")

    # ---- the loop -------------------------------------------------------------

    def _event(self, name: str) -> None:
        for callback in self.callbacks:
            callback(name, self)

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
            raise ValueError("give fit either steps=N or epochs=N (one of them).")
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
            raise RuntimeError(
                "this trainer is already training (a live panel may run it in the "
                "background): stop the panel or call panel.wait() first."
            )
        self.fitting = True
        self.stop_requested, self.stop_reason = False, None
        self._order, self._order_epoch = None, None
        bar = tqdm(total=steps, disable=not self.progress, desc=self.config.kind)
        done = 0
        try:
            self._event("before_fit")
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
                    self._event("after_epoch")
        except CancelFit as stop:
            self.stop_reason = str(stop)
            if isinstance(stop, NonFiniteLossError):
                print(stop, file=sys.stderr)
        finally:
            bar.close()
            self.fitting = False
        self._event("after_fit")
        return self

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
        z, random_labels = self.noise(n)
        if self.conditional and labels is None:
            labels = random_labels
        return self._sample(z, labels)

    @torch.no_grad()
    def fixed_samples(self) -> torch.Tensor:
        """G(fixed noise): the same z every time, so grids show training progress."""
        return self._sample(self.fixed_noise, self.fixed_labels)

    def _sample(self, z, labels) -> torch.Tensor:
        was_training = self.G.training
        self.G.eval()
        try:
            with self._autocast():
                images = self.G(
                    z, labels.to(self.device) if labels is not None else None
                )
        finally:
            self.G.train(was_training)
        return images.float().cpu().contiguous()

    # ---- checkpoints ----------------------------------------------------------

    def state(self) -> dict:
        """Everything needed to resume exactly: weights, optimisers, RNGs, position."""
        return {
            "kind": self.config.kind,
            "generator_config": self.G.config.to_dict(),
            "discriminator_config": self.D.config.to_dict(),
            "train_config": self.config.to_dict(),
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng": rng_states(self.noise_rng),
            "position": {"epoch": self.epoch, "batch": self.batch_in_epoch},
            "step": self.step,
            "history": {name: list(values) for name, values in self.history.items()},
            "dataset": {
                "name": self.dataset.name,
                "classes": list(self.dataset.classes),
                "image_shape": list(self.dataset.image_shape),
                "size": len(self.dataset),
                "flip": bool(self.dataset.flip),
            },
        }

    def save(self, path: str | Path) -> Path:
        """Write a checkpoint atomically (a killed process leaves the old one whole)."""
        return save_atomic(self.state(), path)

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
        state = load_checkpoint(path)
        if state.get("weights_only"):
            raise CheckpointError(
                f"{path} holds weights only (a shipped or exported model, without "
                "optimiser or random state), so it cannot be resumed exactly; start "
                "from its weights with GANTrainer.fine_tune instead."
            )
        saved = state.get("dataset")
        if not isinstance(saved, dict):
            raise CheckpointError(
                f"{path} has no record of its training data, so it cannot be resumed "
                "exactly; start from its weights with GANTrainer.fine_tune instead."
            )
        now = {
            "name": dataset.name,
            "classes": list(dataset.classes),
            "image_shape": list(dataset.image_shape),
            "size": len(dataset),
            "flip": bool(dataset.flip),
        }
        if any(saved.get(key) != value for key, value in now.items()):
            raise CheckpointError(
                f"{path} was trained on {saved['name']!r} (classes {saved['classes']}, "
                f"{saved['size']} images of {saved['image_shape']}) but the data given "
                f"is {now['name']!r} (classes {now['classes']}, {now['size']} images "
                f"of {now['image_shape']}, flip {saved.get('flip')} vs {now['flip']}): "
                "resume with the same data, or fine-tune."
            )
        G, D = models_from_state(state, path)
        trainer = cls(
            G,
            D,
            dataset,
            TrainConfig.from_dict(state["train_config"]),
            device=device,
            callbacks=callbacks,
            progress=progress,
        )
        trainer.opt_g.load_state_dict(state["opt_g"])
        trainer.opt_d.load_state_dict(state["opt_d"])
        try:
            set_rng_states(state["rng"], trainer.noise_rng)
        except RuntimeError:
            raise CheckpointError(
                f"{path} was saved on another kind of device, so its random state "
                f"does not fit {trainer.device}: resume it on the device it was "
                "trained on, or start from its weights with GANTrainer.fine_tune."
            ) from None
        trainer.epoch = state["position"]["epoch"]
        trainer.batch_in_epoch = state["position"]["batch"]
        trainer.step = state["step"]
        trainer.history.update({k: list(v) for k, v in state["history"].items()})
        return trainer

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
        """Start from a checkpoint's weights on new data, with fresh optimisers."""
        state = load_checkpoint(path)
        G, D = models_from_state(state, path)
        config = TrainConfig.from_dict(state["train_config"]).update(train)
        return cls(
            G, D, dataset, config, device=device, callbacks=callbacks, progress=progress
        )


def models_from_state(state: dict, path: str | Path = "checkpoint"):
    """Rebuild G and D from a checkpoint's configs and load their weights."""
    try:
        G = Generator(GeneratorConfig.from_dict(state["generator_config"]))
        D = Discriminator(DiscriminatorConfig.from_dict(state["discriminator_config"]))
        G.load_state_dict(state["generator"])
        D.load_state_dict(state["discriminator"])
    except (KeyError, RuntimeError, ValueError) as error:
        raise CheckpointError(
            f"{path} does not hold a model this version can build ({error}); "
            "train it again with `python -m gancourse train`."
        ) from None
    return G, D
