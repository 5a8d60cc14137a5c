"""Student copies of the notebooks: every solution replaced by a stub.

Solutions sit between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's
convention). Needs nbformat, which is imported only when a copy is written.
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "raise NotImplementedError"
_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")


def clear_solutions(source: str) -> str:
    """Replace each marked solution, markers included, by an indented stub."""
    out: list[str] = []
    lines = iter(source.splitlines())
    for number, line in enumerate(lines, start=1):
        match = _BEGIN_LINE.match(line)
        if match is None:
            if END in line:
                raise ValueError(f"line {number}: {END} without {BEGIN} before it")
            out.append(line)
            continue
        for inner in lines:
            if END in inner:
                break
            if BEGIN in inner:
                raise ValueError(
                    f"{BEGIN} inside another solution, after line {number}"
                )
        else:
            raise ValueError(f"line {number}: {BEGIN} has no {END} after it")
        out.append(match["indent"] + STUB)
    return "\n".join(out)


def make_student_copies(src_dir: Path, out_dir: Path) -> list[Path]:
    """Write a student copy of every notebook in src_dir to out_dir; return paths."""
    import nbformat

    src_dir, out_dir = Path(src_dir), Path(out_dir)
    notebooks = sorted(src_dir.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no notebooks (*.ipynb) in {src_dir}")
    if out_dir.resolve() == src_dir.resolve():
        raise ValueError(
            "the student copies must go to another folder than the sources"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and BEGIN in cell.source:
                cell.source = clear_solutions(cell.source)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        target = out_dir / path.name
        nbformat.write(notebook, target)
        written.append(target)
    return written
