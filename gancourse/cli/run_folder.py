"""A training run's folder: its files, and refusing to start over another run.

A run folder holds checkpoint.pt, samples/step_XXXXXXX.png, config.json (every
command and the resolved settings) and history.csv (one row per step).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path

from gancourse.errors import UsageError
from gancourse.files import write_text_atomic

CHECKPOINT, CONFIG, HISTORY, SAMPLES = (
    "checkpoint.pt",
    "config.json",
    "history.csv",
    "samples",
)
RUN_FILES = (CHECKPOINT, CONFIG, HISTORY, SAMPLES)


def check_out_folder(out: Path, resume: bool) -> None:
    """Refuse to start over another run, or to resume a run that is not there.

    Call it holding the folder's RunFolderLock.
    """
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


def read_config(out: Path) -> dict:
    """The run's config.json, or {} if it is missing; one error if it is damaged.

    A resumed run adds its command to the file's list of runs: rewriting a file
    it could not read would lose that list.
    """
    path = out / CONFIG
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        config = error
    if not isinstance(config, dict):
        raise UsageError(
            f"{path} is damaged ({config}): repair it, or move it out of the folder "
            "to resume without the record of earlier commands."
        )
    return config


def write_config(args, trainer, dataset, saved_config: dict) -> None:
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
    write_text_atomic(args.out / CONFIG, json.dumps(config, indent=2) + "\n")


def write_history(history: dict[str, list[float]], path: Path) -> None:
    """history.csv: one row per step, one column per recorded figure."""
    steps = history.get("step", [])
    recorded = {n for n in history if n.endswith("_step")}  # trainer.record()'s
    recorded |= {n.removesuffix("_step") for n in recorded}
    names = ["step"] + [
        name
        for name, values in history.items()
        if name != "step" and name not in recorded and len(values) == len(steps)
    ]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(names)
    writer.writerows(zip(*(history[name] for name in names), strict=True))
    write_text_atomic(path, text.getvalue())


LOCK = ".lock"


class RunFolderLock:
    """Hold `out/.lock` while a run writes there: a second `train` into it is refused.

    The lock is the operating system's (flock), so a killed run leaves no stale
    lock. Taking it also proves the folder can be written, before any work; a
    folder this run created and left empty is removed again.
    """

    def __init__(self, out: Path):
        self.out, self.file, self.created = out, None, False

    def __enter__(self) -> RunFolderLock:
        out = self.out
        try:
            if out.exists() and not out.is_dir():
                raise UsageError(f"--out {out} is a file; give a folder for the run.")
            self.created = not out.exists()
            out.mkdir(parents=True, exist_ok=True)
            self.file = open(out / LOCK, "a+")  # noqa: SIM115 (held until __exit__)
        except OSError as error:
            self._remove_if_empty()
            raise UsageError(
                f"cannot write to --out {out}: {error.strerror}. Choose a folder "
                "you can write to, with a shorter name if the name is too long."
            ) from None
        if not _try_lock(self.file):
            self.file.seek(0)
            owner = self.file.read().strip() or "another process"
            self.file.close()
            raise UsageError(
                f"another `train` (process {owner}) is writing to {out}: wait for it "
                "to end, or choose another --out folder."
            )
        if not _same_file(self.file, out / LOCK):  # its holder removed it meanwhile
            self.file.close()
            return self.__enter__()
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        remove_leftovers(out)
        return self

    def __exit__(self, *exc) -> None:
        (self.out / LOCK).unlink(missing_ok=True)
        self.file.close()  # closing releases the lock
        self._remove_if_empty()

    def _remove_if_empty(self) -> None:
        if self.created and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()


def _try_lock(file) -> bool:
    """Take an exclusive lock on an open file without waiting; False if it is held."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(file, path: Path) -> bool:
    """Whether the open `file` is still the file at `path` (not unlinked)."""
    try:
        return os.path.samestat(os.fstat(file.fileno()), os.stat(path))
    except FileNotFoundError:
        return False


def remove_leftovers(out: Path) -> list[Path]:
    """Delete half-written temporary files a killed run left (`.NAME.PID.tmp`)."""
    leftovers = [
        path
        for folder in (out, out / SAMPLES)
        if folder.is_dir()
        for path in folder.glob(".*.tmp")
        if path.is_file()
    ]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def forget_failed_start(out: Path) -> None:
    """A new run that failed before its first checkpoint: remove what it wrote.

    Without a checkpoint there is nothing to resume, and the files left behind
    would make the folder refuse the next attempt.
    """
    if (out / CHECKPOINT).exists():
        return
    for name in (CONFIG, HISTORY):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / SAMPLES, ignore_errors=True)
