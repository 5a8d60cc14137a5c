"""`python -m gancourse train` and `sample`: every check first, then the work.

A run folder holds checkpoint.pt, samples/step_XXXXXXX.png, config.json and
history.csv. Bad input raises one UsageError (printed as `error: ...`, exit 2)
before any data is loaded where possible, and always before a file is written.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
from torchvision.utils import make_grid, save_image

from gancourse.config import get_device
from gancourse.data import (
    KNOWN_DATASETS,
    DatasetUnavailableError,
    ImageDataset,
    load_dataset,
)
from gancourse.data.loading import SPLITS, TOY_SETS, _class_names
from gancourse.models.config import DEPTHS, IMAGE_SIZES
from gancourse.training import (
    KINDS,
    CheckpointError,
    Checkpoints,
    GANTrainer,
    SampleGrid,
    load_checkpoint,
    models_from_state,
)

CHECKPOINT, CONFIG, HISTORY, SAMPLES = (
    "checkpoint.pt",
    "config.json",
    "history.csv",
    "samples",
)
RUN_FILES = (CHECKPOINT, CONFIG, HISTORY, SAMPLES)
DEVICES = ("cpu", "cuda", "mps")
CONDITIONAL = ("cgan", "acgan")
# the size load_dataset gives without image_size=, so sizes are checked before loading
NATIVE_SIZES = {
    "mnist": 28,
    "fashion-mnist": 28,
    "mnist-5k": 28,
    "cifar10": 32,
    "shapes": 32,
    "imagefolder": 64,
    "true_image": 10,
    "digits10": 10,
}
# settings a resumed run must keep: (name, flag)
ARCHITECTURE = (
    ("image_size", "--image-size"),
    ("width", "--width"),
    ("depth", "--depth"),
    ("batchnorm", "--batchnorm"),
    ("spectral_norm", "--spectral-norm"),
)


class UsageError(ValueError):
    """Bad command-line input: main prints it as `error: ...` and exits with 2."""


# ---- train --------------------------------------------------------------------


def train(args: argparse.Namespace) -> int:
    """Check everything, load the data, build the trainer, then train and report."""
    out = args.out
    _check_train_args(args)
    device = _check_device(args.device)
    _check_out_folder(out, args.resume)
    state, saved_config = None, {}
    path = out / CHECKPOINT if args.resume else args.init_from
    try:
        if args.resume:
            state = load_checkpoint(path)
            saved_config = _read_config(out)
            _adopt_resumed(args, state, saved_config)
            _check_same_device(out, saved_config.get("device"), device)
        elif args.init_from is not None:
            state = load_checkpoint(path)
            _adopt_initial(args, state)
    except KeyError as missing:
        raise CheckpointError(
            f"{path} lacks {missing}: it was written by another version of "
            "gancourse; train again, or use a checkpoint of this version."
        ) from None
    _fill_defaults(args)
    _check_image_size(args)
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
    _write_config(args, trainer, dataset, saved_config)
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
    _write_history(trainer.history, out / HISTORY)
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
    if args.dataset not in KNOWN_DATASETS:
        raise UsageError(
            f"unknown dataset {args.dataset!r}. Known datasets: "
            f"{', '.join(n for n in KNOWN_DATASETS if n not in TOY_SETS)} "
            "(`python -m gancourse datasets` lists them)."
        )
    if args.dataset in TOY_SETS:
        raise UsageError(
            f"{args.dataset!r} is a 2D toy dataset of points, not images: the GANs "
            "here train on image datasets such as mnist-5k or shapes."
        )
    if (args.steps is None) == (args.epochs is None):
        raise UsageError(
            "give exactly one of --steps N or --epochs N (the total for the run)."
        )
    counts = ("steps", "epochs", "d_steps", "g_steps", "batch_size", "width")
    for flag in (*counts, "checkpoint_every", "sample_every"):
        _check_whole(flag, getattr(args, flag))
    for flag in ("lr_d", "lr_g"):
        value = getattr(args, flag)
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise UsageError(
                f"--{flag.replace('_', '-')} must be a learning rate above 0 "
                f"(e.g. 2e-4), got {value}."
            )
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {args.seed}.")
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
    if args.data_path is not None and args.dataset != "imagefolder":
        raise UsageError(
            "--data-path is only for --dataset imagefolder; leave it out for "
            f"{args.dataset!r}."
        )
    if args.classes is not None:
        args.classes = _parse_classes(args.classes, args.dataset)
    _check_class_count(args.kind, args.dataset, args.classes)


def _check_whole(flag: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise UsageError(f"--{flag.replace('_', '-')} must be at least 1, got {value}.")


def _parse_classes(text: str, dataset: str) -> list[str]:
    """'horse, bird' -> ['horse', 'bird'], checked against the dataset's classes."""
    classes = [name.strip() for name in text.split(",") if name.strip()]
    if not classes:
        raise UsageError("--classes is empty: give class names, e.g. --classes 3,5.")
    if len(set(classes)) != len(classes):
        raise UsageError(f"--classes names a class twice: {text!r}.")
    known = _class_names(dataset)
    unknown = [name for name in classes if known is not None and name not in known]
    if unknown:
        raise UsageError(
            f"--classes: {', '.join(unknown)} not in {dataset!r}; its classes are "
            f"{', '.join(known)}."
        )
    return classes


def _check_class_count(kind: str, dataset: str, classes: list[str] | None) -> None:
    """A conditional GAN needs labels with at least 2 classes."""
    if kind not in CONDITIONAL:
        return
    names = classes if classes is not None else _class_names(dataset)
    if names is not None and len(names) < 2:
        raise UsageError(
            f"{kind} is conditional and needs at least 2 classes, but {dataset!r} "
            f"{'with --classes ' if classes else ''}has {len(names)} "
            f"({', '.join(names)}): choose more classes or another dataset, or "
            "train an unconditional dcgan."
        )


def _check_device(name: str | None) -> torch.device:
    if name is not None and name.split(":")[0] not in DEVICES:
        raise UsageError(
            f"unknown --device {name!r}: use {', '.join(DEVICES)}, or leave it out "
            "to pick the best one found."
        )
    try:
        return get_device(name)
    except RuntimeError as error:
        raise UsageError(str(error).replace("device=", "--device ")) from None


def _check_out_folder(out: Path, resume: bool) -> None:
    """Refuse to start over another run, or to resume a run that is not there."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder for the run.")
    present = [name for name in RUN_FILES if (out / name).exists()]
    if not resume and present:
        raise UsageError(
            f"{out} already holds a run ({', '.join(present)}): pass --resume to "
            "continue it, or choose another --out folder."
        )
    if resume and not (out / CHECKPOINT).is_file():
        hint = (
            "the run there stopped before its first checkpoint; delete the folder "
            "or choose another --out, and start without --resume"
            if present
            else "check the folder, or leave out --resume to start a new run"
        )
        raise UsageError(f"--resume: there is no {CHECKPOINT} in {out}: {hint}.")


def _read_config(out: Path) -> dict:
    """The run's config.json, or {} if it is missing or unreadable."""
    try:
        return json.loads((out / CONFIG).read_text())
    except (OSError, ValueError):
        return {}


def _saved_settings(state: dict) -> dict:
    """The checkpoint's model settings under the command line's names."""
    g, d, t = (
        state["generator_config"],
        state["discriminator_config"],
        state["train_config"],
    )
    return {
        "image_size": g["image_size"],
        "width": g["width"],
        "depth": g["depth"],
        "batchnorm": g["batchnorm"],
        "spectral_norm": d["spectral_norm"],
        "batch_size": t["batch_size"],
        "seed": t["seed"],
    }


def _adopt_resumed(args, state: dict, saved_config: dict) -> None:
    """Take the run's settings from its checkpoint; refuse any that differ."""
    path = args.out / CHECKPOINT
    if state["kind"] != args.kind:
        raise UsageError(
            f"{path} holds a {state['kind']} run, not {args.kind}: resume it as "
            f"`train {state['kind']} ... --resume`, or choose another --out folder "
            f"for a new {args.kind} run."
        )
    data = state["dataset"]
    saved = _saved_settings(state) | {
        "flip": data["flip"],
        "split": saved_config.get("dataset", {}).get("split", args.split),
        "classes": data["classes"],
    }
    if data["name"] != args.dataset:
        raise UsageError(
            f"{path} was trained on {data['name']!r}, not {args.dataset!r}: resume "
            f"with --dataset {data['name']}, or choose another --out folder."
        )
    flags = (
        *ARCHITECTURE,
        ("batch_size", "--batch-size"),
        ("seed", "--seed"),
        ("flip", "--flip"),
        ("split", "--split"),
        ("classes", "--classes"),
    )
    for name, flag in flags:
        given = getattr(args, name)
        if given is not None and given != saved[name]:
            raise UsageError(
                f"{path} holds a run with {_setting(flag, saved[name])}, but "
                f"{_setting(flag, given)} was given: leave {flag} out to continue "
                "that run, or choose another --out folder for a new one."
            )
        setattr(args, name, saved[name])
    if args.classes == _class_names(args.dataset):
        args.classes = None  # all classes


def _check_same_device(out: Path, saved: str | None, device: torch.device) -> None:
    """An exact resume needs the random generators of the device it started on."""
    if saved is not None and torch.device(saved).type != device.type:
        raise UsageError(
            f"the run in {out} was trained on {saved}, and an exact resume needs the "
            f"same kind of device, not {device.type}: pass --device {saved} on a "
            "machine that has it, or fine-tune from it with --init-from."
        )


def _adopt_initial(args, state: dict) -> None:
    """Fine-tuning keeps the checkpoint's networks: refuse settings that differ."""
    path = args.init_from
    if state["kind"] != args.kind:
        raise UsageError(
            f"--init-from {path} is a {state['kind']} checkpoint and cannot start a "
            f"{args.kind}: fine-tune it as `train {state['kind']} --init-from ...`, "
            f"or leave out --init-from to train a {args.kind} from scratch."
        )
    saved = _saved_settings(state)
    for name, flag in ARCHITECTURE:
        given = getattr(args, name)
        if given is not None and given != saved[name]:
            raise UsageError(
                f"--init-from {path} has networks with {_setting(flag, saved[name])}, "
                f"but {_setting(flag, given)} was given: leave {flag} out to use the "
                "checkpoint's networks (fine-tuning cannot change them)."
            )
        if name != "image_size":  # the data is resized only when asked
            setattr(args, name, saved[name])
    size, native = saved["image_size"], NATIVE_SIZES.get(args.dataset)
    if args.image_size is None and native is not None and native != size:
        raise UsageError(
            f"--init-from {path} makes {size}x{size} px images but {args.dataset!r} "
            f"images are {native}x{native} px: pass --image-size {size} to resize "
            "the data."
        )
    num_classes = state["generator_config"]["num_classes"]
    names = args.classes or _class_names(args.dataset)
    if args.kind in CONDITIONAL and names and len(names) > num_classes:
        raise UsageError(
            f"--init-from {path} knows {num_classes} classes but the data has "
            f"{len(names)}: choose at most {num_classes} with --classes."
        )


def _setting(flag: str, value) -> str:
    """How a setting is written on the command line: --width 8, --no-flip, ..."""
    if isinstance(value, bool):
        return flag if value else f"--no-{flag[2:]}"
    if isinstance(value, list):
        return f"{flag} {','.join(value)}"
    return f"{flag} {value}"


def _fill_defaults(args: argparse.Namespace) -> None:
    """Data options not given (and not taken from a checkpoint) get their defaults."""
    args.split = args.split or "train"
    args.flip = bool(args.flip)


def _check_image_size(args: argparse.Namespace) -> None:
    """Without --image-size the data keeps its own size, which the models must fit."""
    native = NATIVE_SIZES.get(args.dataset)
    if args.image_size is None and native is not None and native not in IMAGE_SIZES:
        raise UsageError(
            f"{args.dataset!r} images are {native}x{native} px but the models make "
            f"{', '.join(map(str, IMAGE_SIZES))} px images: pass --image-size 28 "
            "(or 32, 64) to resize them."
        )


def _load(args: argparse.Namespace) -> ImageDataset:
    """load_dataset with the command line's options; unavailable data is bad input."""
    try:
        return load_dataset(
            args.dataset,
            split=args.split,
            image_size=args.image_size,
            classes=args.classes,
            flip=args.flip,
            path=args.data_path,
        )
    except DatasetUnavailableError as error:
        raise UsageError(str(error)) from None


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


def _write_config(args, trainer: GANTrainer, dataset, saved_config: dict) -> None:
    """config.json: what was run (every command, resolved settings, the configs)."""
    runs = saved_config.get("runs", []) if args.resume else []
    runs.append(
        {
            "command": ["python", "-m", "gancourse", *args.argv],
            "start_step": trainer.step,
            "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    settings = {
        name: str(value) if isinstance(value, Path) else value
        for name, value in vars(args).items()
        if name not in ("run", "argv")
    }
    config = {
        "kind": trainer.config.kind,
        "runs": runs,
        "args": settings,
        "generator": trainer.G.config.to_dict(),
        "discriminator": trainer.D.config.to_dict(),
        "train": trainer.config.to_dict(),
        "dataset": {
            "name": dataset.name,
            "split": args.split,
            "classes": dataset.classes,
            "image_shape": list(dataset.image_shape),
            "size": len(dataset),
            "flip": dataset.flip,
        },
        "device": str(trainer.device),
    }
    path = args.out / CONFIG
    temporary = path.with_name(f".{CONFIG}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(config, indent=2) + "\n")
    os.replace(temporary, path)


def _write_history(history: dict[str, list[float]], path: Path) -> None:
    """history.csv: one row per step, one column per recorded figure."""
    steps = history.get("step", [])
    names = ["step"] + [
        name
        for name, values in history.items()
        if name != "step" and len(values) == len(steps)
    ]
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(names)
        writer.writerows(zip(*(history[name] for name in names), strict=True))


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


# ---- sample -------------------------------------------------------------------


def sample(args: argparse.Namespace) -> int:
    """Write a PNG grid of the checkpoint's generator's images."""
    for flag in ("n", "nrow"):
        _check_whole(flag, getattr(args, flag))
    if args.seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {args.seed}.")
    out = args.out
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise UsageError(f"--out {out}: give an image file name ending in .png.")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a file name like grid.png.")
    if out.exists() and out.resolve() == args.checkpoint.resolve():
        raise UsageError("--out is the checkpoint itself; give another file name.")
    device = _check_device(args.device)
    state = load_checkpoint(args.checkpoint)
    G, _ = models_from_state(state, args.checkpoint)
    G = G.to(device).eval()
    classes = list(state.get("dataset", {}).get("classes", []))
    num_classes = G.config.num_classes
    conditional = G.config.conditioning != "none"
    n, nrow = args.n or 64, args.nrow
    labels = None
    if args.label is not None:
        if not conditional:
            raise UsageError(
                f"{args.checkpoint} is an unconditional {state['kind']}: it takes no "
                "--label; leave it out."
            )
        labels = torch.full((n,), _label_index(args.label, classes, num_classes))
    elif conditional:  # one row per class
        per_class = -(-args.n // num_classes) if args.n else nrow
        labels = torch.arange(num_classes).repeat_interleave(per_class)
        n, nrow = len(labels), per_class
    generator = torch.Generator(device).manual_seed(args.seed)
    with torch.no_grad():
        z = G.sample_noise(n, device, generator)  # (n, z_dim)
        images = G(z, labels.to(device) if labels is not None else None).float()
    grid = make_grid(images.cpu(), nrow=nrow, normalize=True, value_range=(-1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, out)
    print(
        f"wrote {out}: {n} images, {nrow} per row, {grid.shape[2]}x{grid.shape[1]} px"
    )
    return 0


def _label_index(text: str, classes: list[str], num_classes: int) -> int:
    """A --label given as a class name or as an index, checked against the model."""
    names = classes if len(classes) == num_classes else []
    if text in names:
        return names.index(text)
    numeric_names = bool(names) and all(name.isdigit() for name in names)
    index = int(text) if text.isdigit() and not numeric_names else None
    if index is None or index >= num_classes:
        listed = ", ".join(names)
        fix = (
            f"a class name ({listed})"
            if numeric_names
            else f"a class name ({listed}) or an index from 0 to {num_classes - 1}"
            if names
            else f"an index from 0 to {num_classes - 1}"
        )
        raise UsageError(
            f"--label {text} is not a class of this {num_classes}-class model: "
            f"give {fix}."
        )
    return index


# ---- export -------------------------------------------------------------------


def export(args: argparse.Namespace) -> int:
    """Write a small weights-only copy of a run's checkpoint, e.g. to ship it."""
    from gancourse.pretrained import export_weights

    out = args.out
    if out.suffix != ".pt":
        raise UsageError(f"{out}: give a file name ending in .pt.")
    if out.is_dir():
        raise UsageError(f"{out} is a folder; give a file name like dcgan.pt.")
    if out.exists() and out.resolve() == args.checkpoint.resolve():
        raise UsageError("the output is the checkpoint itself; give another file name.")
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} exists; give --overwrite to replace it.")
    state = load_checkpoint(args.checkpoint)
    if state.get("weights_only"):
        raise UsageError(f"{args.checkpoint} is already a weights-only export.")
    export_weights(args.checkpoint, out)
    size = out.stat().st_size / 2**20
    print(f"wrote {out}: {state['kind']} after {state['step']} steps, {size:.1f} MiB")
    return 0
