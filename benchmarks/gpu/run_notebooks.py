"""Run notebooks top to bottom without Jupyter, keeping every figure as a PNG.

Each notebook runs in a Python process of its own, so a failure stops only that
notebook and no state leaks from one to the next. Its code cells run in order in
one namespace, as in a kernel, from the notebook's folder. Lines that start with
% or ! (IPython magics, shell commands) are dropped. plt.show() and the end of
each cell save the open figures to OUT/<notebook>/fig_<cell>_<k>.png, as the
inline backend would show them; a cell's last expression is printed as Out[n].
A cell that raises prints its traceback and ends its notebook as failed.

Cells are numbered as Jupyter's In [n] would number them on a run from the top.
Writes OUT/<notebook>.log (every cell's time and output) and OUT/summary.md.
OUT defaults to $OUT/notebooks, or build/gpu-out/notebooks when $OUT is unset.

Usage: python benchmarks/gpu/run_notebooks.py [--out DIR] [--jobs N]
       [--timeout SECONDS] NOTEBOOK.ipynb...
"""

from __future__ import annotations

import argparse
import ast
import json
import linecache
import os
import subprocess
import sys
import time
import traceback
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# ---- the parent: one process per notebook, then the summary -------------------


def default_out() -> Path:
    """$OUT/notebooks, or build/gpu-out/notebooks when $OUT is unset."""
    return Path(os.environ.get("OUT") or ROOT / "build" / "gpu-out") / "notebooks"


def check_notebooks(paths: list[str]) -> list[Path]:
    """The notebook paths, resolved; exits with one line naming a bad one."""
    notebooks = [Path(p).resolve() for p in paths]
    for path in notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            sys.exit(f"run_notebooks.py: {path} is not a notebook file (.ipynb)")
    stems = [p.stem for p in notebooks]
    if len(set(stems)) != len(stems):
        sys.exit("run_notebooks.py: two notebooks share a name; give each once")
    return notebooks


def run_in_process(notebook: Path, out: Path, timeout: float) -> dict:
    """Run one notebook in a fresh Python process; its status, seconds, failing cell."""
    log = out / f"{notebook.stem}.log"
    status_file = out / f"{notebook.stem}.json"
    status_file.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--one", str(notebook), "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    with log.open("w") as output:
        try:
            done = subprocess.run(
                command,
                cwd=notebook.parent,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
            crashed = f"crashed (exit status {done.returncode})"
        except subprocess.TimeoutExpired:
            crashed = f"timed out after {timeout:.0f} s"
    seconds = time.perf_counter() - start
    if status_file.exists():
        result = json.loads(status_file.read_text())
    else:  # the process died before it could say how the notebook went
        result = {"status": crashed, "failing_cell": None}
    return {"notebook": notebook.stem, "seconds": round(seconds, 1), **result}


def summary(results: list[dict]) -> str:
    """The markdown table of OUT/summary.md."""
    lines = [
        "# Notebooks run without Jupyter (benchmarks/gpu/run_notebooks.py)",
        "",
        "| notebook | status | seconds | failing cell |",
        "|---|---|---|---|",
    ]
    for r in results:
        cell = f"In [{r['failing_cell']}]" if r["failing_cell"] else ""
        lines.append(f"| {r['notebook']} | {r['status']} | {r['seconds']} | {cell} |")
    return "\n".join(lines) + "\n"


def run_all(notebooks: list[Path], out: Path, jobs: int, timeout: float) -> int:
    """Run the notebooks, `jobs` at a time; write the summary; 1 if any failed."""
    out.mkdir(parents=True, exist_ok=True)

    def run_one(notebook: Path) -> dict:
        result = run_in_process(notebook, out, timeout)
        print(
            f"{result['notebook']}: {result['status']} in {result['seconds']} s",
            flush=True,
        )
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(run_one, notebooks))
    (out / "summary.md").write_text(summary(results))
    print(summary(results))
    return 0 if all(r["status"] == "passed" for r in results) else 1


# ---- the child: one notebook's cells in one namespace --------------------------


class FigureSaver:
    """Saves every open matplotlib figure as fig_<cell>_<k>.png, then closes it."""

    def __init__(self, folder: Path):
        self.folder, self.cell, self.count = folder, 0, 0

    def start_cell(self, cell: int) -> None:
        self.cell, self.count = cell, 0

    def save(self, figure) -> None:
        """Save one figure (one that pyplot does not know of, too)."""
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"fig_{self.cell}_{self.count}.png"
        figure.savefig(path, bbox_inches="tight")  # as the inline backend crops

    def save_open(self) -> None:
        """Save and close every open figure."""
        import matplotlib.pyplot as plt

        for number in plt.get_fignums():
            self.save(plt.figure(number))
        plt.close("all")


def code_cells(notebook: Path) -> list[str]:
    """The source of each code cell, with magic (%) and shell (!) lines dropped."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        kept = [
            line
            for line in text.splitlines()
            if not line.lstrip().startswith(("%", "!"))
        ]
        sources.append("\n".join(kept) + "\n")
    return sources


def run_cell(source: str, number: int, namespace: dict, saver: FigureSaver) -> None:
    """Run one cell as a kernel would: statements, then show the last expression."""
    filename = f"<In [{number}]>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename)
    last = (
        tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    )
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        expression = ast.Expression(last.value)
        value = eval(compile(expression, filename, "eval"), namespace)
        show_value(value, number, saver)


def show_value(value, number: int, saver: FigureSaver) -> None:
    """A cell's last value: a figure is saved, anything else printed as Out[n]."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if isinstance(value, Figure):
        open_figures = [plt.figure(n) for n in plt.get_fignums()]
        if not any(value is f for f in open_figures):  # else saved at the cell's end
            saver.save(value)
    elif value is not None:
        text = repr(value)
        print(f"Out[{number}]: {text[:300]}{' ...' if len(text) > 300 else ''}")


def ensure_ipython() -> None:
    """Use the real IPython; if it is missing, a stub of IPython.display (say so)."""
    try:
        import IPython.display  # noqa: F401
    except ImportError:
        print("IPython is not installed: using a stub of IPython.display")
        display = types.ModuleType("IPython.display")
        display.display = lambda *objs, **kwargs: print(*objs)
        display.HTML = type("HTML", (), {"__init__": lambda self, data=None: None})
        ipython = types.ModuleType("IPython")
        ipython.display = display
        ipython.get_ipython = lambda: None
        sys.modules.update({"IPython": ipython, "IPython.display": display})


def run_notebook(notebook: Path, out: Path) -> dict:
    """Every code cell of the notebook in order; stops at the first that raises."""
    import matplotlib.pyplot as plt

    plt.switch_backend("Agg")  # before show is replaced: switching resets show's info
    ensure_ipython()
    saver = FigureSaver(out / notebook.stem)

    def show(*args, **kwargs) -> None:
        """plt.show(): save and close every open figure."""
        saver.save_open()

    plt.show = show
    sys.path.insert(0, str(notebook.parent))  # as a kernel started there has it
    namespace = {"__name__": "__main__"}
    for number, source in enumerate(code_cells(notebook), start=1):
        saver.start_cell(number)
        start = time.perf_counter()
        print(f"---- In [{number}]", flush=True)
        try:
            run_cell(source, number, namespace, saver)
            saver.save_open()
        except Exception:
            traceback.print_exc()
            print(
                f"---- In [{number}] failed after {time.perf_counter() - start:.1f} s"
            )
            return {"status": "failed", "failing_cell": number}
        print(f"---- In [{number}] {time.perf_counter() - start:.1f} s", flush=True)
    return {"status": "passed", "failing_cell": None}


def run_child(notebook: Path, out: Path) -> int:
    """The --one mode: run one notebook, write OUT/<notebook>.json."""
    result = run_notebook(notebook, out)
    (out / f"{notebook.stem}.json").write_text(json.dumps(result) + "\n")
    return 0 if result["status"] == "passed" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", help="paths of .ipynb files")
    parser.add_argument(
        "--out", type=Path, default=None, help="default: $OUT/notebooks"
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once")
    parser.add_argument("--timeout", type=float, default=300, help="per notebook, s")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jobs < 1 or args.timeout <= 0:
        parser.error("--jobs must be 1 or more and --timeout above 0")
    notebooks = check_notebooks(args.notebooks)
    out = (args.out or default_out()).resolve()
    if args.one:
        return run_child(notebooks[0], out)
    return run_all(notebooks, out, args.jobs, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
