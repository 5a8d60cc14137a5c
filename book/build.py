"""`make book`: run the notebooks and publish them as one static website.

    python -m book.build [--mode laptop] [--solutions hide] [--notebooks "00 05"]
                         [--out build/book]

1. copy the notebooks into OUT/src (notebooks/ itself is never touched);
2. run each one top to bottom with nbclient, headless, in the chosen mode; a cell
   that raises stops the build and is named;
3. prepare it for a static page (book/prepare.py): solutions, widgets, no error;
4. write the front page (the README's course map) and the table of contents;
5. build the site with Jupyter Book into OUT/html: open OUT/html/index.html.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from book.prepare import (
    SHOW_PROMPT,
    BookError,
    check_solutions,
    first_error,
    prepare,
    unlink_absent,
)
from gancourse.runtime import MODES, kernel_environment

BOOK_DIR = Path(__file__).resolve().parent
ROOT = BOOK_DIR.parent
NOTEBOOKS_DIR = ROOT / "notebooks"
REPORTS = "reports.md"


def all_notebooks() -> list[Path]:
    """Every notebook of the course, in order."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def choose_notebooks(spec: str, available: list[Path]) -> list[Path]:
    """The notebooks named in spec ('00 05', '05_dcgan'; empty: all), in order."""
    chosen = set()
    for word in spec.replace(",", " ").split():
        matches = [path for path in available if path.stem.startswith(word)]
        if len(matches) != 1:
            numbers = ", ".join(path.stem[:2] for path in available)
            raise BookError(
                f"NOTEBOOKS: {word!r} names {len(matches)} notebooks, not one: "
                f'use their numbers, e.g. NOTEBOOKS="00 05" (there are {numbers}).'
            )
        chosen.add(matches[0])
    return [path for path in available if path in chosen] if chosen else available


def check_options(mode: str, solutions: str) -> None:
    """Raise a one-line BookError for a mode or a solutions choice that is unknown."""
    if mode not in MODES:
        raise BookError(
            f"MODE={mode!r} is not a mode: use MODE=quick, MODE=laptop or MODE=full."
        )
    check_solutions(solutions)


def execute(path: Path, mode: str) -> nbformat.NotebookNode:
    """Run the notebook at path in its folder; a raising cell is a BookError."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=None,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=kernel_environment(mode))
    except CellExecutionError as error:
        print(error, file=sys.stderr)
        number, message = first_error(notebook) or ("?", "the kernel stopped")
        raise BookError(
            f"{path.name}, cell {number}: {message} (traceback above); "
            "the book was not built."
        ) from None
    return notebook


def course_map(readme: str, names: list[str]) -> str:
    """The course map table of the README, its notebook names linked to pages."""
    match = re.search(r"^## Course map\n+((?:\|.*\n)+)", readme, flags=re.MULTILINE)
    if match is None:
        raise BookError(
            "README.md has no table under '## Course map': the front page is made "
            "from it, so put the table back."
        )
    table = match.group(1).replace("](notebooks/", "](")
    for name in names:
        table = table.replace(f"\n| {name} |", f"\n| [{name}]({name}.ipynb) |")
    return table


def front_page(readme: str, names: list[str], mode: str, solutions: str) -> str:
    """The book's first page: what it is, how it was made, the course map."""
    if solutions == "hide":
        answers = f"Each solution is hidden: click *{SHOW_PROMPT}* to read it."
    else:
        answers = (
            "The solutions are left out: each exercise shows the stub "
            "(`raise NotImplementedError`) that you fill in."
        )
    noise = (
        " Quick mode trains for a few steps only, so its samples are mostly noise."
        if mode == "quick"
        else ""
    )
    return f"""# gancourse: GANs from scratch

Every notebook of the course, run from top to bottom in **{mode} mode** and
rendered as a website that works offline.{noise} {answers} A cell with live
controls (sliders, buttons) shows the last figure it drew. To change and run
anything, open the notebooks in Jupyter (`make lab`, see the README).

## Course map

{course_map(readme, names)}
The course grew from five student projects: [the reports]({REPORTS}) summarise
each of them, and every mention of a report links to its section there.
"""


def table_of_contents(names: list[str]) -> str:
    """_toc.yml: the front page, the notebooks in order, then the reports."""
    chapters = [{"file": name} for name in names] + [{"file": Path(REPORTS).stem}]
    toc = {"format": "jb-book", "root": "index", "chapters": chapters}
    return yaml.safe_dump(toc, sort_keys=False)


def build_site(src: Path, out: Path) -> Path:
    """Run Jupyter Book on src; return the folder of the finished site."""
    shutil.rmtree(out / "_build", ignore_errors=True)
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    command = [str(jupyter_book), "build", str(src), "--path-output", str(out)]
    if subprocess.run(command).returncode != 0:
        raise BookError("Jupyter Book failed (its messages are above).")
    site = out / "html"
    shutil.rmtree(site, ignore_errors=True)
    shutil.move(out / "_build" / "html", site)
    shutil.rmtree(out / "_build")
    return site


def build(mode: str, solutions: str, notebooks: str, out: Path) -> Path:
    """Build the whole book into out; return the folder of the site."""
    check_options(mode, solutions)
    paths = choose_notebooks(notebooks, all_notebooks())
    src = out / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for name in ("_config.yml", "offline_site.py"):
        shutil.copy(BOOK_DIR / name, src / name)
    shutil.copytree(BOOK_DIR / "_static", src / "_static")  # Jupyter Book adds its CSS
    names = [path.stem for path in paths]
    reports = (NOTEBOOKS_DIR / REPORTS).read_text()
    (src / REPORTS).write_text(unlink_absent(reports, names))
    for path in paths:
        copy = Path(shutil.copy(path, src / path.name))
        started = time.perf_counter()
        print(f"book: running {path.name} in {mode} mode", flush=True)
        notebook = execute(copy, mode)
        try:
            changed = prepare(notebook, solutions, names)
        except BookError as error:
            raise BookError(f"{path.name}: {error}") from None
        nbformat.write(notebook, copy)
        took = time.perf_counter() - started
        print(f"book: {path.name} done in {took:.0f} s {changed}", flush=True)
    readme = (ROOT / "README.md").read_text()
    (src / "index.md").write_text(front_page(readme, names, mode, solutions))
    (src / "_toc.yml").write_text(table_of_contents(names))
    return build_site(src, out)


def main(argv: list[str] | None = None) -> int:
    """The command line of `make book`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", default="laptop", help="quick, laptop or full")
    parser.add_argument("--solutions", default="hide", help="hide or remove")
    parser.add_argument("--notebooks", default="", help='e.g. "00 05"; all if empty')
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    args = parser.parse_args(argv)
    try:
        site = build(args.mode, args.solutions, args.notebooks, args.out.resolve())
    except BookError as error:
        print(f"make book: {error}", file=sys.stderr)
        return 2
    print(f"book: the site is {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
