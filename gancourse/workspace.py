"""The student workspace: copies to work in, solved copies to read, and a reset.

`make lab` opens `workspace/` (gitignored), not the tracked notebooks. It holds
- a student copy of each notebook (solutions cleared), made the first time and
  never written again, so a student's work survives every later `make lab`;
- `solutions/`, the solved notebooks without outputs, read-only, refreshed each
  time from `notebooks/`;
- after `make reset NB=05`, the old copy beside the fresh one, renamed
  `05_dcgan.before-reset-YYYYMMDD-HHMMSS.ipynb`;
- the course's pages (`notebooks/*.md`, e.g. reports.md), read-only, in both
  folders, so the notebooks' links to them work.
Needs nbformat (the lab extra), imported only when a copy is written.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from gancourse.errors import UsageError
from gancourse.files import write_text_atomic
from gancourse.runtime import REPO_DIR
from gancourse.student import solved_copy, student_copy

NOTEBOOKS_DIR = REPO_DIR / "notebooks"
WORKSPACE_DIR = REPO_DIR / "workspace"
SOLUTIONS = "solutions"  # the read-only solved copies, inside the workspace
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH


@dataclass
class WorkspaceReport:
    """What prepare_workspace did: copies made, copies kept, solutions written."""

    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    solutions: list[Path] = field(default_factory=list)


def prepare_workspace(
    notebooks: Path = NOTEBOOKS_DIR, workspace: Path = WORKSPACE_DIR
) -> WorkspaceReport:
    """Make the missing student copies, refresh the solved ones; touch nothing else."""
    sources = _sources(notebooks)
    workspace = _check_workspace(Path(workspace), Path(notebooks))
    import nbformat

    report = WorkspaceReport()
    for source in sources:
        target = workspace / source.name
        if target.exists():
            report.kept.append(target)
        elif _write_new(target, nbformat.writes(student_copy(source))):
            report.created.append(target)
        else:  # another process made it in the meantime: it is theirs now
            report.kept.append(target)
    for source in sources:
        report.solutions.append(_write_solution(source, workspace / SOLUTIONS))
    for page in sorted(Path(notebooks).glob("*.md")):  # reports.md, which they link
        for folder in (workspace, workspace / SOLUTIONS):
            _write_read_only(folder / page.name, page.read_text(encoding="utf-8"))
    return report


def reset_notebook(
    which: str, notebooks: Path = NOTEBOOKS_DIR, workspace: Path = WORKSPACE_DIR
) -> tuple[Path | None, Path]:
    """Give notebook `which` ('05') a fresh student copy; return (old copy, new copy).

    The old copy is renamed, never deleted.
    """
    source = find_notebook(which, _sources(notebooks))
    workspace = _check_workspace(Path(workspace), Path(notebooks))
    import nbformat

    target = workspace / source.name
    fresh = nbformat.writes(student_copy(source))
    kept = None
    if target.exists():
        kept = _free_name(target, time.strftime("%Y%m%d-%H%M%S"))
        os.rename(target, kept)
    if not _write_new(target, fresh):
        raise UsageError(f"{target} appeared while resetting it: run the reset again.")
    return kept, target


def find_notebook(which: str, sources: list[Path]) -> Path:
    """The notebook named by its number ('05'), its name or its file name."""
    text = str(which).strip().removesuffix(".ipynb")
    names = ", ".join(path.name[:2] for path in sources)
    if not text:
        raise UsageError(
            f"name the notebook to reset, e.g. `make reset NB=05` ({names})."
        )
    found = [
        path
        for path in sources
        if path.stem == text or path.stem.split("_")[0] == text.zfill(2)
    ]
    if len(found) != 1:
        raise UsageError(f"no notebook {which!r}: choose one of {names}.")
    return found[0]


def _sources(notebooks: Path) -> list[Path]:
    """The course's notebooks, in order; an error if there are none."""
    found = sorted(Path(notebooks).glob("*.ipynb")) if Path(notebooks).is_dir() else []
    if not found:
        raise UsageError(f"no notebooks (*.ipynb) in {notebooks}.")
    return found


def _check_workspace(workspace: Path, notebooks: Path) -> Path:
    """The workspace folder, made if missing; an error if it cannot be one."""
    resolved, source = workspace.resolve(), notebooks.resolve()
    if resolved == source or source in resolved.parents:
        raise UsageError(
            f"the workspace {workspace} must lie outside {notebooks}, so that running "
            "a notebook never writes into the tracked files: choose another folder."
        )
    if workspace.exists() and not workspace.is_dir():
        raise UsageError(f"{workspace} is a file: the workspace must be a folder.")
    workspace.mkdir(parents=True, exist_ok=True)
    return workspace


def _write_new(path: Path, text: str) -> bool:
    """Write `text` to `path` only if no file is there; False if one is."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    try:
        os.link(temporary, path)  # fails if `path` exists: never overwrites
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _write_solution(source: Path, folder: Path) -> Path:
    """Write the solved copy of `source` into `folder`, read-only; return its path."""
    import nbformat

    text = nbformat.writes(solved_copy(source, f"../{source.name}"))
    return _write_read_only(folder / source.name, text)


def _write_read_only(path: Path, text: str) -> Path:
    """Write `text` to `path` unless it is there already, and make it read-only."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        write_text_atomic(path, text)  # replaces a read-only file: the folder allows it
    path.chmod(READ_ONLY)
    return path


def _free_name(target: Path, stamp: str) -> Path:
    """`NAME.before-reset-STAMP.ipynb` beside target, numbered if that is taken."""
    candidate = target.with_name(f"{target.stem}.before-reset-{stamp}.ipynb")
    number = 2
    while candidate.exists():
        candidate = target.with_name(
            f"{target.stem}.before-reset-{stamp}-{number}.ipynb"
        )
        number += 1
    return candidate
