"""`python -m gancourse train`: every check first, then the work.

The run's folder is run_folder.py's; --resume and --init-from are resume.py's.
Bad input raises one UsageError (printed as `error: ...`, exit 2)
before any data is loaded where possible, and always before a file is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gancourse.cli import modern
from gancourse.cli.options import (
    CONDITIONAL,
    add_dataset_option,
    check_at_least_one,
    check_data_path,
    check_device,
    check_model_size,
    check_seed,
    folder_here,
    parse_classes,
)
from gancourse.cli.resume import adopt_initial, adopt_resumed, check_same_device
from gancourse.cli.run_folder import (
    CHECKPOINT,
    CONFIG,
    HISTORY,
    SAMPLES,
    RunFolderLock,
    check_out_folder,
    forget_failed_start,
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
from gancourse.errors import CheckpointError, StorageError, UsageError
from gancourse.models.config import DEPTHS, IMAGE_SIZES
from gancourse.training import (
    KINDS,
    Checkpoints,
    GANTrainer,
    SampleGrid,
    load_checkpoint,
)
from gancourse.training.config import LARGEST_LR


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
        type=folder_here,
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
        help="spectral norm in D, without BatchNorm in D unless --batchnorm (SNGAN)",
    )
    model.add_argument(
        "--batchnorm",
        action=argparse.BooleanOptionalAction,
        help="BatchNorm in G and D (--no-batchnorm turns it off)",
    )
    modern.add_arguments(train)


def run(args: argparse.Namespace) -> int:
    """Check everything, lock --out, load the data, build the trainer, then train."""
    _check_train_args(args)
    device = check_device(args.device)
    with RunFolderLock(args.out):
        check_out_folder(args.out, args.resume)
        return _train(args, device)


def _train(args: argparse.Namespace, device) -> int:
    """Everything after the checks that need no files: the run itself."""
    out = args.out
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

    checkpoints = Checkpoints(out, every=args.checkpoint_every)
    grids = SampleGrid(every=args.sample_every, folder=out / SAMPLES)
    best = modern.keep_best(args, dataset, device) if args.keep_best else None
    common = {
        "device": device,
        "callbacks": [checkpoints, grids, *([best] if best else [])],
        "progress": not args.quiet,
    }
    trainer = _build_trainer(args, dataset, common)
    budget = _remaining(args, trainer)
    if budget is None:
        done = f"{trainer.step} steps, {trainer.epochs_done} epochs"
        print(f"nothing to do: {out / CHECKPOINT} already has {done}.")
        return 0

    start_step, started = trainer.step, time.perf_counter()
    checkpoints.saved_step = start_step if args.resume else None
    try:
        write_config(args, trainer, dataset, saved_config)
        print(_start_line(args, trainer, dataset, device))
        trainer.fit(**budget)
        seconds = time.perf_counter() - started
        write_history(trainer.history, out / HISTORY)
    except KeyboardInterrupt:
        return _interrupted(args, trainer, checkpoints, start_step)
    except OSError as error:
        if not args.resume:
            forget_failed_start(out)
        raise _storage_error(error, out, checkpoints.saved_step) from None
    print(_summary(args, trainer, grids, start_step, seconds))
    if best is not None and best.best_step is not None:
        print(
            f"best: FID {best.best_fid:.2f} at step {best.best_step} -> "
            f"{out / modern.BEST} (python -m gancourse sample {out / modern.BEST} ...)"
        )
    if trainer.stop_reason is not None:  # NonFiniteGuard printed why
        print(
            f"error: training stopped early; {out / CHECKPOINT} holds the state "
            f"after step {trainer.step}, the last complete step.",
            file=sys.stderr,
        )
        return 1
    return 0


def _build_trainer(args, dataset: ImageDataset, common: dict) -> GANTrainer:
    """A resumed, fine-tuned or new trainer, as the arguments ask."""
    out = args.out
    train_overrides = {
        name: getattr(args, name)
        for name in ("lr_d", "lr_g", "d_steps", "g_steps", "batch_size", "seed")
        if getattr(args, name) is not None
    } | modern.training_overrides(args)
    if args.resume:
        trainer = GANTrainer.resume(out / CHECKPOINT, dataset, **common)
        for name in ("lr_d", "lr_g", "d_steps", "g_steps"):  # may change mid-run
            if getattr(args, name) is not None:
                setattr(trainer, name, getattr(args, name))
        return trainer
    if args.init_from is not None:
        return GANTrainer.fine_tune(
            args.init_from, dataset, **common, **train_overrides
        )
    architecture = {
        name: getattr(args, name)
        for name in ("width", "depth", "batchnorm")
        if getattr(args, name) is not None
    }
    return GANTrainer.from_preset(
        args.kind,
        dataset,
        g=architecture,
        d={
            **architecture,
            **_spectral_norm(args),
            **modern.discriminator_overrides(args),
        },
        **common,
        **train_overrides,
    )


def _spectral_norm(args) -> dict:
    """D's spectral norm; with it on, D's BatchNorm off unless asked for (SNGAN)."""
    if args.spectral_norm is None:
        return {}
    if args.spectral_norm and args.batchnorm is None:
        return {"spectral_norm": True, "batchnorm": False}  # BN would undo the bound
    return {"spectral_norm": args.spectral_norm}


def _interrupted(args, trainer: GANTrainer, checkpoints, start_step: int) -> int:
    """Ctrl-C: keep the last complete step on disk (fit took back a half step)."""
    out = args.out
    if trainer.step == start_step:
        if not args.resume:
            forget_failed_start(out)
        kept = (
            f"{out / CHECKPOINT} still holds step {start_step}"
            if args.resume
            else "nothing was kept"
        )
        print(f"\ninterrupted before the first step: {kept}.", file=sys.stderr)
        return 130
    try:
        checkpoints.save(trainer)
        write_history(trainer.history, out / HISTORY)
    except KeyboardInterrupt:
        saved = checkpoints.saved_step
        kept = f"still holds step {saved}" if saved is not None else "was not written"
        print(
            f"\ninterrupted again while saving: {out / CHECKPOINT} {kept}.",
            file=sys.stderr,
        )
        return 130
    print(
        f"\ninterrupted: {out / CHECKPOINT} holds step {trainer.step}, the last "
        "complete step; run the same command with --resume to continue.",
        file=sys.stderr,
    )
    return 130


def _storage_error(error: OSError, out: Path, saved_step: int | None):
    """One clear error for a write that failed: disk full, read-only, name too long."""
    where = error.filename or out
    if saved_step is not None:
        kept = (
            f"{out / CHECKPOINT} holds step {saved_step}: fix that, then run the same "
            "command with --resume to continue"
        )
    else:
        kept = "nothing of this run was kept: fix that, then run the same command"
    return StorageError(f"cannot write {where}: {error.strerror}; {kept}.")


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
    if args.resume and args.init_from is not None:
        raise UsageError(
            "--resume continues the run in --out and --init-from starts a new one "
            "from another checkpoint's weights: give one of them."
        )
    counts = ("steps", "epochs", "d_steps", "g_steps", "batch_size", "width")
    for flag in (*counts, "checkpoint_every", "sample_every"):
        check_at_least_one(flag, getattr(args, flag))
    for flag in ("lr_d", "lr_g"):
        value = getattr(args, flag)
        if value is not None and not (0 < value <= LARGEST_LR):
            raise UsageError(
                f"--{flag.replace('_', '-')} must be a learning rate above 0 and at "
                f"most {LARGEST_LR:.0e} (e.g. 2e-4), got {value}."
            )
    check_seed(args.seed)
    modern.check_arguments(args)
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
