"""Student copies: solutions cleared, and every check fails on the empty stub."""

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from gancourse.__main__ import main
from gancourse.errors import UsageError
from gancourse.student import BEGIN, END, STUB, clear_solutions, make_student_copies
from tests.standins import write_standins

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

SOURCE = """\
import numpy as np

def sigmoid(x):
    \"\"\"The logistic function.\"\"\"
    ### BEGIN SOLUTION
    z = np.exp(-x)
    return 1 / (1 + z)
    ### END SOLUTION

class Layer:
    def forward(self, x):
        ### BEGIN SOLUTION
        return x
        ### END SOLUTION
"""


def test_clear_solutions_replaces_each_solution_by_an_indented_stub():
    cleared = clear_solutions(SOURCE)
    assert "np.exp" not in cleared and "return x" not in cleared
    assert "BEGIN SOLUTION" not in cleared and "END SOLUTION" not in cleared
    assert "    raise NotImplementedError\n" in cleared
    assert "        raise NotImplementedError" in cleared
    assert '"""The logistic function."""' in cleared and "class Layer:" in cleared
    namespace = {}
    exec(cleared, namespace)  # the student copy is valid Python
    with pytest.raises(NotImplementedError):
        namespace["sigmoid"](0.0)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1\n", "has no ### END SOLUTION"),
        ("x = 1\n### END SOLUTION\n", "without ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside"),
    ],
)
def test_unbalanced_markers_are_reported(broken, message):
    with pytest.raises(UsageError, match=message):
        clear_solutions(broken)


def test_clear_solutions_keeps_the_lines_outside_the_solutions():
    cleared = clear_solutions(SOURCE).split("\n")
    lines = SOURCE.split("\n")
    assert cleared[:4] == lines[:4]  # up to the first BEGIN
    assert cleared[4] == "    " + STUB  # the stub stands where BEGIN stood
    assert cleared[5:] == lines[8:11] + ["        " + STUB] + lines[14:]
    assert cleared[-1] == ""  # the final newline is kept


@pytest.mark.parametrize(
    ("after", "line", "message"),
    [
        (f"{END}\n", 10, f"{END} without"),
        (f"y = 2\n{BEGIN}\nz = 3\n", 11, "has no"),
        (
            f"{BEGIN}\n{BEGIN}\n{END}\n",
            11,
            "inside the solution that begins on line 10",
        ),
        (f"y = 2\n{BEGIN} # and a comment\n", 11, "alone on its line"),
    ],
)
def test_a_misplaced_marker_names_its_line_in_the_cell(after, line, message):
    """Lines inside an earlier solution count too (they were skipped once)."""
    source = (
        f"x = 1\ndef f():\n    {BEGIN}\n    a = 1\n    b = 2\n    return a + b\n"
        f"    {END}\n\n# line 9\n{after}"
    )
    with pytest.raises(UsageError, match=message) as error:
        clear_solutions(source)
    assert str(error.value).startswith(f"line {line}: ")


def _write_notebook(folder: Path, name: str, sources: list[str]) -> Path:
    """A notebook of one markdown cell, then one code cell per source."""
    cells = [nbformat.v4.new_markdown_cell("# Title")]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_a_broken_notebook_is_one_error_line_naming_notebook_cell_and_line(
    tmp_path, capsys
):
    src, out = tmp_path / "src", tmp_path / "out"
    _write_notebook(src, "a.ipynb", [SOURCE])
    broken = _write_notebook(src, "b.ipynb", [SOURCE, f"x = 1\n\n{END}"])
    assert main(["student", "--notebooks", str(src), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {broken}, cell 3, line 3: {END} without {BEGIN} before it\n"
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize(
    ("notebooks", "out", "says"),
    [
        ("missing", "out", "no notebooks"),
        ("src", "src", "another folder"),
        ("src", "src/a.ipynb", "is a file"),
    ],
)
def test_a_bad_folder_is_one_error_line(tmp_path, capsys, notebooks, out, says):
    _write_notebook(tmp_path / "src", "a.ipynb", [SOURCE])
    argv = ["student", "--notebooks", str(tmp_path / notebooks)]
    assert main([*argv, "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and err.count("\n") == 1


def test_a_file_that_is_not_a_notebook_is_a_usage_error(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ipynb").write_text("not json")
    with pytest.raises(UsageError, match="not a notebook"):
        make_student_copies(tmp_path / "src", tmp_path / "out")


def _code(notebook: dict) -> list[str]:
    """The sources of a notebook's code cells."""
    cells = notebook["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def test_make_student_copies_writes_cleared_copies_and_keeps_the_sources(tmp_path):
    before = {p: p.read_bytes() for p in NOTEBOOKS}
    assert main(["student", "--out", str(tmp_path)]) == 0
    for path in NOTEBOOKS:
        assert path.read_bytes() == before[path]
        copy = json.loads((tmp_path / path.name).read_text())
        sources = _code(copy)
        assert not any(BEGIN in s for s in sources)
        original = "".join(_code(json.loads(before[path])))
        assert sum(STUB in s for s in sources) == original.count(BEGIN) > 0


def test_student_copies_refuse_to_overwrite_the_sources():
    with pytest.raises(ValueError, match="another folder"):
        make_student_copies(ROOT / "notebooks", ROOT / "notebooks")


def _exercises(student, original):
    """(stub cell index, its check cell index, the original solution source)."""
    found = []
    for index, cell in enumerate(student.cells):
        if (
            cell.cell_type == "code"
            and STUB in cell.source
            and BEGIN in (original.cells[index].source)
        ):
            check = next(
                i
                for i in range(index + 1, len(student.cells))
                if student.cells[i].cell_type == "code"
                and "check_" in student.cells[i].source
            )
            found.append((index, check, original.cells[index].source))
    return found


@pytest.fixture(scope="module")
def rehearsal_env(tmp_path_factory):
    """A kernel's variables for a rehearsal of full mode on stand-in datasets.

    The checks test the student's functions on their own inputs, whatever the mode;
    the cells before them need only run, and a rehearsal (2 steps per budget) runs
    them fastest.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("GANCOURSE_QUICK",)}
    data = write_standins(tmp_path_factory.mktemp("stand-ins"))
    return env | {"GANCOURSE_REHEARSAL": "1", "GANCOURSE_DATA": str(data)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_fails_on_the_stub_and_passes_on_the_solution(
    path, tmp_path, rehearsal_env
):
    """Run the student copy; at each exercise, its check must fail, then pass."""
    make_student_copies(path.parent, tmp_path)
    student = nbformat.read(tmp_path / path.name, as_version=4)
    original = nbformat.read(path, as_version=4)
    exercises = _exercises(student, original)
    assert exercises, f"{path.name} has no exercise"
    last_check = exercises[-1][1]
    by_check = {check: (stub, solution) for stub, check, solution in exercises}
    client = NotebookClient(
        student, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )  # fmt: skip
    with client.setup_kernel(env=rehearsal_env):
        for index, cell in enumerate(student.cells[: last_check + 1]):
            if cell.cell_type != "code":
                continue
            if index not in by_check:
                client.execute_cell(cell, index)
                continue
            with pytest.raises(CellExecutionError) as failure:
                client.execute_cell(cell, index)
            assert failure.value.ename == "ExerciseError", (
                f"{path.name} cell {index}: the check should fail with a plain "
                f"ExerciseError on the stub, got {failure.value.ename}"
            )
            assert "not written yet" in failure.value.evalue
            stub, solution = by_check[index]
            client.execute_cell(nbformat.v4.new_code_cell(solution), stub)
            client.execute_cell(cell, index)  # passes once the solution is in
