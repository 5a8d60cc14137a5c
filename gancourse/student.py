"""Student copies of the notebooks: every solution replaced by a stub.

Solutions sit between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's
convention). Needs nbformat, which is imported only when a copy is written. A
marker out of place is a UsageError that names the notebook, the cell and the
line in that cell, counted from 1 as Jupyter shows them.
"""

from __future__ import annotations

import re
from pathlib import Path

from gancourse.errors import UsageError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "raise NotImplementedError"
_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")


def clear_solutions(source: str) -> str:
    """Replace each marked solution, markers included, by an indented stub."""
    out: list[str] = []
    begin: tuple[int, str] | None = None  # the open solution: (line, indent)
    for number, line in enumerate(source.split("\n"), start=1):
        match = _BEGIN_LINE.match(line)
        if begin is not None:
            if BEGIN in line:
                raise UsageError(
                    f"line {number}: {BEGIN} inside the solution that begins on "
                    f"line {begin[0]}"
                )
            if END in line:
                out.append(begin[1] + STUB)
                begin = None
        elif match is not None:
            begin = (number, match["indent"])
        elif BEGIN in line:
            raise UsageError(f"line {number}: {BEGIN} must stand alone on its line")
        elif END in line:
            raise UsageError(f"line {number}: {END} without {BEGIN} before it")
        else:
            out.append(line)
    if begin is not None:
        raise UsageError(f"line {begin[0]}: {BEGIN} has no {END} after it")
    return "\n".join(out)


def make_student_copies(
    src_dir: Path, out_dir: Path, overwrite: bool = False
) -> list[Path]:
    """Write a student copy of every notebook in src_dir to out_dir; return paths.

    Files already in out_dir are someone's work: unless `overwrite`, finding one is
    an error raised before anything is written.
    """
    import nbformat

    src_dir, out_dir = Path(src_dir), Path(out_dir)
    notebooks = sorted(src_dir.glob("*.ipynb")) if src_dir.is_dir() else []
    if not notebooks:
        raise UsageError(
            f"no notebooks (*.ipynb) in {src_dir}: pass the folder that holds them "
            "with --notebooks."
        )
    if out_dir.resolve() == src_dir.resolve():
        raise UsageError(
            "the student copies must go to another folder than the sources: "
            "choose another --out."
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file: --out should be a folder.")
    existing = [out_dir / p.name for p in notebooks if (out_dir / p.name).exists()]
    if existing and not overwrite:
        names = ", ".join(path.name for path in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise UsageError(
            f"{out_dir} already holds {names}{more}: nothing was written, so no work "
            "is lost. Choose an empty --out, or pass --overwrite to replace them."
        )
    copies = {out_dir / path.name: student_copy(path) for path in notebooks}
    out_dir.mkdir(parents=True, exist_ok=True)
    for target, notebook in copies.items():
        nbformat.write(notebook, target)
    return list(copies)


def _read(path: Path):
    """The notebook at `path`, or a UsageError if it is not one."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except nbformat.reader.NotJSONError:
        raise UsageError(f"{path} is not a notebook (not valid JSON).") from None


def student_copy(path: Path):
    """The notebook at `path` with its solutions cleared and its outputs removed."""
    notebook = _read(path)
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source or END in cell.source:
            try:
                cell.source = clear_solutions(cell.source)
            except UsageError as error:
                raise UsageError(f"{path}, cell {index}, {error}") from None
        cell.outputs, cell.execution_count = [], None
    return notebook


def solved_copy(path: Path, own_copy: str):
    """The notebook at `path` without outputs, opening with a note: read-only."""
    import nbformat

    notebook = _read(path)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    note = nbformat.v4.new_markdown_cell(
        "**The solved notebook, read-only.** Run it to compare; it cannot be saved. "
        f"Your own copy is [{own_copy}]({own_copy})."
    )
    note.id = "solved-copy-note"
    notebook.cells.insert(0, note)
    return notebook
