"""--resume and --init-from: a checkpoint's settings, and refusing those that differ."""

from __future__ import annotations

from pathlib import Path

import torch

from gancourse.cli import modern
from gancourse.cli.options import CONDITIONAL
from gancourse.cli.run_folder import CHECKPOINT
from gancourse.data import canonical_name, class_names, dataset_info
from gancourse.errors import UsageError

# settings a resumed run must keep: (name, flag)
ARCHITECTURE = (
    ("image_size", "--image-size"),
    ("width", "--width"),
    ("depth", "--depth"),
    ("batchnorm", "--batchnorm"),
    ("spectral_norm", "--spectral-norm"),
    ("projection", "--projection"),
)
# the training recipe a resumed run must keep too (fine-tuning may change it)
RECIPE = (
    ("loss", "--loss"),
    ("r1_gamma", "--r1-gamma"),
    ("r2_gamma", "--r2-gamma"),
    ("penalty_every", "--penalty-every"),
    ("augment", "--augment"),
    ("ema", "--ema"),
)


def saved_settings(state: dict) -> dict:
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
    } | modern.saved_settings(state)


def adopt_resumed(args, state: dict, saved_config: dict) -> None:
    """Take the run's settings from its checkpoint; refuse any that differ."""
    path = args.out / CHECKPOINT
    if state["kind"] != args.kind:
        raise UsageError(
            f"{path} holds a {state['kind']} run, not {args.kind}: resume it as "
            f"`train {state['kind']} ... --resume`, or choose another --out folder "
            f"for a new {args.kind} run."
        )
    data = state["dataset"]
    saved = saved_settings(state) | {
        "flip": data["flip"],
        "split": saved_config.get("dataset", {}).get("split", args.split),
        "classes": data["classes"],
    }
    if canonical_name(data["name"]) != args.dataset:
        raise UsageError(
            f"{path} was trained on {data['name']!r}, not {args.dataset!r}: resume "
            f"with --dataset {data['name']}, or choose another --out folder."
        )
    flags = (
        *ARCHITECTURE,
        *RECIPE,
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
                f"{path} holds a run with {setting(flag, saved[name])}, but "
                f"{setting(flag, given)} was given: leave {flag} out to continue "
                "that run, or choose another --out folder for a new one."
            )
        setattr(args, name, saved[name])
    if args.classes == class_names(args.dataset):
        args.classes = None  # all classes


def check_same_device(out: Path, saved: str | None, device: torch.device) -> None:
    """An exact resume needs the random generators of the device it started on."""
    if saved is not None and torch.device(saved).type != device.type:
        raise UsageError(
            f"the run in {out} was trained on {saved}, and an exact resume needs the "
            f"same kind of device, not {device.type}: pass --device {saved} on a "
            "machine that has it, or fine-tune from it with --init-from."
        )


def adopt_initial(args, state: dict) -> None:
    """Fine-tuning keeps the checkpoint's networks: refuse settings that differ."""
    path = args.init_from
    if state["kind"] != args.kind:
        raise UsageError(
            f"--init-from {path} is a {state['kind']} checkpoint and cannot start a "
            f"{args.kind}: fine-tune it as `train {state['kind']} --init-from ...`, "
            f"or leave out --init-from to train a {args.kind} from scratch."
        )
    saved = saved_settings(state)
    for name, flag in ARCHITECTURE:
        given = getattr(args, name)
        if given is not None and given != saved[name]:
            raise UsageError(
                f"--init-from {path} has networks with {setting(flag, saved[name])}, "
                f"but {setting(flag, given)} was given: leave {flag} out to use the "
                "checkpoint's networks (fine-tuning cannot change them)."
            )
        if name != "image_size":  # the data is resized only when asked
            setattr(args, name, saved[name])
    size, native = saved["image_size"], dataset_info(args.dataset).image_size
    if args.image_size is None and native is not None and native != size:
        raise UsageError(
            f"--init-from {path} makes {size}x{size} px images but {args.dataset!r} "
            f"images are {native}x{native} px: pass --image-size {size} to resize "
            "the data."
        )
    num_classes = state["generator_config"]["num_classes"]
    names = args.classes or class_names(args.dataset)
    if args.kind in CONDITIONAL and names and len(names) > num_classes:
        raise UsageError(
            f"--init-from {path} knows {num_classes} classes but the data has "
            f"{len(names)}: choose at most {num_classes} with --classes."
        )


def setting(flag: str, value) -> str:
    """How a setting is written on the command line: --width 8, --no-flip, ..."""
    if isinstance(value, bool):
        return flag if value else f"--no-{flag[2:]}"
    if isinstance(value, list):
        return f"{flag} {','.join(value)}"
    return f"{flag} {value}"
