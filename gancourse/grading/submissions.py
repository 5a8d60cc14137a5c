"""The submissions: which files, whose, and which course notebook each one is.

A class hands in notebooks either as one folder per student (`alice/05_dcgan.ipynb`,
any file name) or as files named by student (`alice.ipynb`, `alice_05_dcgan.ipynb`).
A submission is told apart by its content, not its file name: the title cell
(`# 05 · ...`), else the exercises it defines, else a course number in its name.
Files are untrusted: links are not followed, and large or broken files are
reported, not read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gancourse.runtime import REPO_DIR

MAX_NOTEBOOK_BYTES = 50 * 2**20  # a course notebook with all its figures is < 10 MB
_TITLE = re.compile(r"^#+\s*(\d\d)\b")
_DEFINITION = re.compile(r"^def\s+(\w+)\s*\(", re.MULTILINE)
_SEPARATORS = " _-."


@dataclass(frozen=True)
class CourseNotebook:
    """One notebook of the course and its exercises, in the order they appear."""

    number: str  # "05"
    name: str  # "05_dcgan"
    exercises: tuple[tuple[str, str], ...]  # (checks module, exercise name)


@dataclass
class Submission:
    """One submitted file: whose it is and what it is, or why it cannot be graded."""

    path: Path
    student: str
    notebook: Any = None  # the nbformat NotebookNode, when it could be read
    course: CourseNotebook | None = None
    problem: str = ""  # why it is not graded; "" when it is


def course_notebooks(
    folder: Path = REPO_DIR / "notebooks",
) -> dict[str, CourseNotebook]:
    """The course's notebooks by number, each with its exercises (from checks)."""
    import nbformat

    from gancourse.checks import NOTEBOOK_EXERCISES, SECTION_MODULES

    course = {}
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        number, topic = path.stem.split("_", 1)
        modules = [topic] + [m for m, home in SECTION_MODULES.items() if home == topic]
        found = [(m, e) for m in modules for e in NOTEBOOK_EXERCISES.get(m, "").split()]
        source = "\n".join(
            cell.source
            for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "code"
        )
        found.sort(key=lambda pair: source.find(f"def {pair[1]}("))  # course order
        course[number] = CourseNotebook(number, path.stem, tuple(found))
    return course


def find_submissions(
    folder: Path, course: dict[str, CourseNotebook], assigned: list[str] | None = None
) -> list[Submission]:
    """Every notebook under `folder`, read and identified; problems kept on each."""
    folder = Path(folder)
    submissions = []
    for root, dirs, files in os.walk(folder):  # links to folders are not followed
        dirs[:] = sorted(d for d in dirs if not _hidden(d))
        for name in sorted(files):
            path = Path(root) / name
            if _hidden(name) or path.suffix.lower() != ".ipynb":
                continue
            submission = Submission(path, student_of(path, folder, course))
            submission.problem = _read(submission, course, assigned)
            submissions.append(submission)
    return sorted(submissions, key=lambda s: (s.student.lower(), str(s.path)))


def student_of(path: Path, folder: Path, course: dict[str, CourseNotebook]) -> str:
    """The student's name: the first folder under `folder`, else the file's name."""
    parts = path.relative_to(folder).parts
    if len(parts) > 1:
        return parts[0]
    name = path.stem
    for notebook in course.values():  # alice_05_dcgan -> alice
        name = re.sub(re.escape(notebook.name), " ", name, flags=re.IGNORECASE)
    name = re.sub(r"(^|[ _\-.])\d\d($|[ _\-.])", " ", name)  # alice_05 -> alice
    return name.strip(_SEPARATORS) or path.stem


def identify(
    notebook: Any, course: dict[str, CourseNotebook], file_name: str
) -> CourseNotebook | None:
    """Which course notebook this is: its title, else its exercises, else its name."""
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    for text in markdown[:3]:
        title = _TITLE.match(text.strip())
        if title and title[1] in course:
            return course[title[1]]
    defined = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            defined.update(_DEFINITION.findall(cell.source))
    overlap = {
        number: len(defined & {exercise for _, exercise in nb.exercises})
        for number, nb in course.items()
    }
    best = max(overlap, key=overlap.get, default=None)
    if best is not None and overlap[best] > 0:
        return course[best]
    for number, nb in course.items():
        if re.search(rf"(^|\D){number}(\D|$)", file_name):
            return nb
    return None


def _read(
    submission: Submission,
    course: dict[str, CourseNotebook],
    assigned: list[str] | None,
) -> str:
    """Read and identify the submission in place; return its problem, or ""."""
    import nbformat

    path = submission.path
    if path.is_symlink() or not path.is_file():
        return "a link or special file, not a notebook: not followed"
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        megabytes = path.stat().st_size / 2**20
        return (
            f"{megabytes:.0f} MB, larger than the {MAX_NOTEBOOK_BYTES // 2**20} MB "
            "a notebook can be: clear its outputs and hand it in again"
        )
    try:
        notebook = nbformat.read(path, as_version=4)
        cells = list(notebook.cells)
        if not all(isinstance(cell.source, str) for cell in cells):
            raise ValueError("a cell without source text")
        identified = identify(notebook, course, path.name)
    except Exception as error:  # untrusted JSON: any failure is this file's problem
        reason = " ".join(str(error).split())[:200]
        return f"not a readable notebook ({type(error).__name__}: {reason})"
    submission.notebook, submission.course = notebook, identified
    if submission.course is None:
        return (
            "cannot tell which course notebook this is: its title cell (# 05 · ...) "
            "and the exercises' function names are gone"
        )
    if assigned and submission.course.number not in assigned:
        wanted = ", ".join(course[n].name for n in assigned)
        return (
            f"this is notebook {submission.course.name}, not the one assigned "
            f"({wanted})"
        )
    return ""


def _hidden(name: str) -> bool:
    """Hidden files, Jupyter's checkpoints and macOS archive debris are skipped."""
    return name.startswith((".", "__MACOSX")) or name == ".ipynb_checkpoints"
