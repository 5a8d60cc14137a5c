"""`python -m gancourse train`: every check first, then the work.

The run's folder is run_folder.py's; --resume and --init-from are resume.py's.
Bad input raises one UsageError (printed as `error: ...`, exit 2)
before any data is loaded where possible, and always before a file is written.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from gancourse.cli.options import (
    CONDITIONAL,
    add_dataset_option,
    check_at_least_one,
    check_data_path,
    check_device,
    check_model_size,
    check_seed,
    parse_classes,
)
from gancourse.cli.resume import adopt_initial, adopt_resumed, check_same_device
from gancourse.cli.run_folder import (
    CHECKPOINT,
    CONFIG,
    HISTORY,
    SAMPLES,
    check_out_folder,
    read_config,
    write_config,
    write_history,
)
from gancourse.data import (
    SPLITS,
    ImageDataset,
    class_names,
    dataset_info,
    load_dataset,
)
from gancourse.errors import CheckpointError, UsageError
from gancourse.models.config import DEPTHS, IMAGE_SIZES
from gancourse.training import (
    KINDS,
    Checkpoints,
    GANTrainer,
    SampleGrid,
    load_checkpoint,
)


def add_arguments(train: argparse.ArgumentParser) -> None:
    """The `train` sub-command and its options (None means: not given)."""
    train.description = (
        "Train a GAN. --steps/--epochs are the total for the run, so `--resume` "
        "continues an interrupted run to the same total."
    )
    train.add_argument("kind", metavar="KIND", help=", ".join(KINDS))
    add_dataset_option(train, "the images to learn")
    train.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the run's folder"
    )
    budget = train.add_argument_group("budget (give exactly one)")
    budget.add_argument("--steps", type=int, metavar="N", help="total steps")
    budget.add_argument(
        "--epochs", type=int, metavar="N", help="total passes over the data"
    )
    how = train.add_argument_group("run")
    how.add_argument("--resume", action="store_true", help="continue --out's run")
    how.add_argument(
        "--init-from",
        type=Path,
        metavar="CKPT",
        help="fine-tune: start from CKPT's weights with fresh optimisers",
    )
    how.add_argument("--seed", type=int, metavar="S", help="random seed (default 0)")
    how.add_argument("--device", help="cpu, cuda or mps (default: the best found)")
    how.add_argument(
        "--checkpoint-every",
        type=int,
        default=500,
        metavar="N",
        help="write checkpoint.pt every N steps and at the end (default 500)",
    )
    how.add_argument(
        "--sample-every",
        type=int,
        default=500,
        metavar="N",
        help="write samples/step_N.png every N steps (default 500)",
    )
    how.add_argument("--quiet", action="store_true", help="no progress bar")
    optim = train.add_argument_group("training (default: the kind's preset)")
    optim.add_argument("--lr-d", type=float, metavar="LR", help="D's learning rate")
    optim.add_argument("--lr-g", type=float, metavar="LR", help="G's learning rate")
    optim.add_argument("--d-steps", type=int, metavar="N", help="D updates per step")
    optim.add_argument("--g-steps", type=int, metavar="N", help="G updates per step")
    optim.add_argument("--batch-size", type=int, metavar="N")
    data = train.add_argument_group("data")
    data.add_argument(
        "--image-size",
        type=int,
        metavar="PX",
        help=f"{', '.join(map(str, IMAGE_SIZES))} (resizes the data)",
    )
    data.add_argument(
        "--classes", metavar="NAMES", help="a class subset, e.g. horse,bird"
    )
    data.add_argument("--split", help=f"{', '.join(SPLITS)} (default train)")
    data.add_argument(
        "--flip", action=argparse.BooleanOptionalAction, help="random h-flips"
    )
    data.add_argument(
        "--data-path",
        type=Path,
        metavar="FOLDER",
        help="the folder of images for --dataset imagefolder",
    )
    model = train.add_argument_group("model (default: the kind's preset)")
    model.add_argument(
        "--width", type=int, metavar="N", help="channels of G's last layer"
    )
    model.add_argument("--depth", help=", ".join(DEPTHS))
    model.add_argument(
        "--spectral-norm",
        action=argparse.BooleanOptionalAction,
        help="spectral norm in D (SNGAN)",
    )
    model.add_argument(
        "--batchnorm",
        action=argparse.BooleanOptionalAction,
        help="BatchNorm in G and D (--no-batchnorm turns it off)",
    )


def run(args: argparse.Namespace) -> int:
    """Check everything, load the data, build the trainer, then train and report."""
    out = args.out
    _check_train_args(args)
    device = check_device(args.device)
    check_out_folder(out, args.resume)
    state, saved_config = None, {}
    path = out / CHECKPOINT if args.resume else args.init_from
    try:
        if args.resume:
            state = load_checkpoint(path)
            saved_config = read_config(out)
            adopt_resumed(args, state, saved_config)
            check_same_device(out, saved_config.get("device"), device)
        elif args.init_from is not None:
            state = load_checkpoint(path)
            adopt_initial(args, state)
    except KeyError as missing:
        raise CheckpointError(
            f"{path} lacks {missing}: it was written by another version of "
            "gancourse; train again, or use a checkpoint of this version."
        ) from None
    _fill_defaults(args)
    check_model_size(args.dataset, args.image_size)
    dataset = _load(args)
    _check_dataset(args, dataset, state)

    callbacks = [
        Checkpoints(out, every=args.checkpoint_every),
        SampleGrid(every=args.sample_every, folder=out / SAMPLES),
    ]
    common = {"device": device, "callbacks": callbacks, "progress": not args.quiet}
    train_overrides = {
        name: getattr(args, name)
        for name in ("lr_d", "lr_g", "d_steps", "g_steps", "batch_size", "seed")
        if getattr(args, name) is not None
    }
    if args.resume:
        trainer = GANTrainer.resume(out / CHECKPOINT, dataset, **common)
        for name in ("lr_d", "lr_g", "d_steps", "g_steps"):  # may change mid-run
            if getattr(args, name) is not None:
                setattr(trainer, name, getattr(args, name))
    elif args.init_from is not None:
        trainer = GANTrainer.fine_tune(
            args.init_from, dataset, **common, **train_overrides
        )
    else:
        architecture = {
            name: getattr(args, name)
            for name in ("width", "depth", "batchnorm")
            if getattr(args, name) is not None
        }
        sn = {} if args.spectral_norm is None else {"spectral_norm": args.spectral_norm}
        trainer = GANTrainer.from_preset(
            args.kind,
            dataset,
            g=architecture,
            d={**architecture, **sn},
            **common,
            **train_overrides,
        )
    budget = _remaining(args, trainer)
    if budget is None:
        done = f"{trainer.step} steps, {trainer.epochs_done} epochs"
        print(f"nothing to do: {out / CHECKPOINT} already has {done}.")
        return 0

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --out {out}: {error.strerror}.") from None
    write_config(args, trainer, dataset, saved_config)
    print(_start_line(args, trainer, dataset, device))
    start_step, started = trainer.step, time.perf_counter()
    try:
        trainer.fit(**budget)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted near step {trainer.step}: run the same command with "
            f"--resume to continue from the last checkpoint in {out}.",
            file=sys.stderr,
        )
        return 130
    seconds = time.perf_counter() - started
    write_history(trainer.history, out / HISTORY)
    print(_summary(args, trainer, callbacks[1], start_step, seconds))
    if trainer.stop_reason is not None:  # NonFiniteGuard printed why
        print(
            f"error: training stopped early; {out / CHECKPOINT} holds the weights "
            f"of step {trainer.step}.",
            file=sys.stderr,
        )
        return 1
    return 0


def _check_train_args(args: argparse.Namespace) -> None:
    """The checks that need nothing but the arguments themselves."""
    if args.kind not in KINDS:
        raise UsageError(
            f"unknown model kind {args.kind!r}: choose one of {', '.join(KINDS)}."
        )
    if (args.steps is None) == (args.epochs is None):
        raise UsageError(
            "give exactly one of --steps N or --epochs N (the total for the run)."
        )
    counts = ("steps", "epochs", "d_steps", "g_steps", "batch_size", "width")
    for flag in (*counts, "checkpoint_every", "sample_every"):
        check_at_least_one(flag, getattr(args, flag))
    for flag in ("lr_d", "lr_g"):
        value = getattr(args, flag)
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise UsageError(
                f"--{flag.replace('_', '-')} must be a learning rate above 0 "
                f"(e.g. 2e-4), got {value}."
            )
    check_seed(args.seed)
    if args.depth is not None and args.depth not in DEPTHS:
        raise UsageError(
            f"--depth must be one of {', '.join(DEPTHS)}, got {args.depth!r}."
        )
    if args.split is not None and args.split not in SPLITS:
        raise UsageError(
            f"--split must be one of {', '.join(SPLITS)}, got {args.split!r}."
        )
    if args.image_size is not None and args.image_size not in IMAGE_SIZES:
        raise UsageError(
            f"--image-size {args.image_size} does not fit the models: they make "
            f"{', '.join(map(str, IMAGE_SIZES))} px images; pass one of those "
            "(the data is resized)."
        )
    check_data_path(dataset_info(args.dataset), args.data_path, needed=True)
    if args.classes is not None:
        args.classes = parse_classes(args.classes, args.dataset)
    _check_class_count(args.kind, args.dataset, args.classes)


def _check_class_count(kind: str, dataset: str, classes: list[str] | None) -> None:
    """A conditional GAN needs labels with at least 2 classes."""
    if kind not in CONDITIONAL:
        return
    names = classes if classes is not None else class_names(dataset)
    if names is not None and len(names) < 2:
        raise UsageError(
            f"{kind} is conditional and needs at least 2 classes, but {dataset!r} "
            f"{'with --classes ' if classes else ''}has {len(names)} "
            f"({', '.join(names)}): choose more classes or another dataset, or "
            "train an unconditional dcgan."
        )


def _fill_defaults(args: argparse.Namespace) -> None:
    """Data options not given (and not taken from a checkpoint) get their defaults."""
    args.split = args.split or "train"
    args.flip = bool(args.flip)


def _load(args: argparse.Namespace) -> ImageDataset:
    """load_dataset with the command line's options."""
    return load_dataset(
        args.dataset,
        split=args.split,
        image_size=args.image_size,
        classes=args.classes,
        flip=args.flip,
        path=args.data_path,
    )


def _check_dataset(args, dataset: ImageDataset, state: dict | None) -> None:
    """What only the loaded data can tell: its shape and classes."""
    channels, height, width = dataset.image_shape
    if height != width or height not in IMAGE_SIZES:
        raise UsageError(
            f"{args.dataset!r} images are {height}x{width} px but the models make "
            f"{', '.join(map(str, IMAGE_SIZES))} px images: pass --image-size 28 "
            "(or 32, 64) to resize them."
        )
    if channels not in (1, 3):
        raise UsageError(
            f"{args.dataset!r} images have {channels} channels; the models take 1 "
            "(grey) or 3 (colour)."
        )
    if args.kind in CONDITIONAL and dataset.num_classes < 2:
        raise UsageError(
            f"{args.kind} is conditional and needs at least 2 classes, but "
            f"{args.dataset!r} has {dataset.num_classes}: use a labelled dataset "
            "(one subfolder per class) or train an unconditional dcgan."
        )
    batch_size = args.batch_size or (state or {}).get("train_config", {}).get(
        "batch_size", 64
    )
    if len(dataset) < batch_size:
        raise UsageError(
            f"{args.dataset!r} has {len(dataset)} images, fewer than one batch of "
            f"{batch_size}: lower --batch-size."
        )
    if state is not None and not args.resume:
        g = state["generator_config"]
        makes = (g["channels"], g["image_size"], g["image_size"])
        if dataset.image_shape != makes:
            fix = (
                f"pass --image-size {g['image_size']} to resize the data"
                if channels == g["channels"]
                else f"fine-tune on data with {g['channels']} channel(s)"
            )
            raise UsageError(
                f"--init-from {args.init_from} makes {_shape(makes)} images but "
                f"{args.dataset!r} images are {_shape(dataset.image_shape)}: {fix}."
            )


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def _remaining(args, trainer: GANTrainer) -> dict | None:
    """fit()'s budget so the run ends at the TOTAL steps/epochs; None if it has."""
    if args.steps is not None:
        left = args.steps - trainer.step
        return {"steps": left} if left > 0 else None
    left = args.epochs - trainer.epochs_done
    return {"epochs": left} if left > 0 else None


def _start_line(args, trainer: GANTrainer, dataset, device) -> str:
    budget = f"{args.steps} steps" if args.steps else f"{args.epochs} epochs"
    how = (
        f"resuming at step {trainer.step}"
        if args.resume
        else f"fine-tuning {args.init_from}"
        if args.init_from
        else "from scratch"
    )
    return (
        f"train {args.kind} on {dataset!r} | device {device} | {budget} in all, "
        f"{how} | writing to {args.out}"
    )


def _summary(args, trainer, grids: SampleGrid, start_step: int, seconds) -> str:
    """A few lines: steps, time, speed, final losses and where the files are."""
    steps = trainer.step - start_step
    images = steps * trainer.config.d_steps * trainer.config.batch_size
    history = trainer.history
    last = {
        name: history[name][-1]
        for name in ("loss_d", "loss_g", "d_real", "d_fake", "wasserstein")
        if history.get(name)
    }
    figures = ", ".join(f"{name} {value:.3f}" for name, value in last.items())
    out = args.out
    return "\n".join(
        [
            f"done: {steps} steps this run (step {start_step} -> {trainer.step}, "
            f"{trainer.epochs_done} epochs done) in {seconds:.1f} s, "
            f"{images / max(seconds, 1e-9):.0f} real images/s",
            f"final: {figures or 'no steps recorded'}",
            f"files: {out / CHECKPOINT}, {out / SAMPLES}/ ({len(grids.grids)} new "
            f"grids), {out / CONFIG}, {out / HISTORY}",
            f"next: python -m gancourse sample {out / CHECKPOINT} --out grid.png",
        ]
    )
