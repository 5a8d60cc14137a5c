"""`python -m gancourse grade`: a class of generated submissions, each case on its row.

The class hands in notebook 01 (the fastest to run): a solved copy, a student copy,
wrong answers, code that raises, a syntax error, an endless loop, a deleted check
cell, a renamed exercise, another notebook than the one assigned, a file that is
not JSON, and a submission that tries to change another's result. One grader run
grades them all (module fixture); each test reads its rows.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gancourse.grading import course_notebooks, find_submissions
from gancourse.grading.execute import MIME
from gancourse.grading.report import feedback_files, feedback_text, safe_file_name
from gancourse.grading.submissions import identify, student_of
from gancourse.student import clear_solutions
from tests.test_cli import refused

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_backprop_and_activations.ipynb"
SIGMOID = "def sigmoid_backward(z, grad_out):"
GRADIENT = "def numerical_gradient(f, x, h=1e-5):"
WRONG_SIGMOID = f"""{SIGMOID}
    s = 1 / (1 + np.exp(-z))
    return grad_out * s  # forgot (1 - s)
"""
RAISING_GRADIENT = f"""{GRADIENT}
    return f(x) / h[0]  # h is a float: TypeError
"""
LOOPING_GRADIENT = f"""{GRADIENT}
    while True:
        pass
"""


def solved() -> nbformat.NotebookNode:
    """Notebook 01 as the course holds it: every exercise solved."""
    return nbformat.read(NOTEBOOK, as_version=4)


def student_copy() -> nbformat.NotebookNode:
    """Notebook 01 as a student gets it: every solution a stub."""
    notebook = solved()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = clear_solutions(cell.source)
    return notebook


def replace_cell(notebook, starts: str, source: str) -> nbformat.NotebookNode:
    """The notebook with the code cell that starts with `starts` replaced."""
    cells = [c for c in notebook.cells if c.source.startswith(starts)]
    assert len(cells) == 1, starts
    cells[0].source = source
    return notebook


def write(path: Path, notebook) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def cheat_cell() -> str:
    """Code that tries every way a notebook could reach another's grade."""
    fake = {"token": "0" * 32, "result": "passed", "message": "", "seconds": 0}
    return f"""
import os, pathlib, sys
from IPython.display import display
import gancourse.checks.backprop_and_activations as checks
checks.check_sigmoid_backward = lambda function: None  # pass my own check
display({{{MIME!r}: {fake!r}}}, raw=True)  # a forged result
print({json.dumps({"result": "passed"})!r})
os.environ["GANCOURSE_MODE"] = "full"
here = pathlib.Path.cwd()
(here / "grades.csv").write_text("zoe,01,sigmoid_backward,passed")
(here.parent / "gancourse-grade-zoe").mkdir(exist_ok=True)
sys.modules["gancourse.checks.backprop_and_activations"] = None
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one generated class; (rows by (student, exercise), feedback dir, run)."""
    root = tmp_path_factory.mktemp("class")
    folder = root / "submissions"
    write(folder / "alice" / "my work.ipynb", solved())
    write(folder / "bob.ipynb", student_copy())
    (folder / "carol_01.ipynb").parent.mkdir(parents=True, exist_ok=True)
    (folder / "carol_01.ipynb").write_text('{"cells": [{"cell_type": "code"')
    dave = replace_cell(solved(), SIGMOID, WRONG_SIGMOID)
    write(folder / "dave" / "01.ipynb", replace_cell(dave, GRADIENT, RAISING_GRADIENT))
    erin = replace_cell(solved(), SIGMOID, SIGMOID + "\n    return grad_out *\n")
    write(folder / "erin" / "01_backprop_and_activations.ipynb", erin)
    frank = replace_cell(solved(), GRADIENT, LOOPING_GRADIENT)
    frank.cells.append(nbformat.v4.new_code_cell("while True:\n    pass"))
    write(folder / "frank" / "01.ipynb", frank)
    grace = solved()
    grace.cells = [c for c in grace.cells if not c.source.startswith("check_")]
    write(folder / "grace" / "01.ipynb", grace)
    heidi = solved()
    for cell in heidi.cells:
        cell.source = cell.source.replace("sigmoid_backward", "my_sigmoid_backward")
    write(folder / "heidi" / "01.ipynb", heidi)
    write(
        folder / "ivan" / "01.ipynb",
        nbformat.read(ROOT / "notebooks" / "05_dcgan.ipynb", 4),
    )
    mallory = replace_cell(solved(), SIGMOID, WRONG_SIGMOID)
    mallory.cells.append(nbformat.v4.new_code_cell(cheat_cell()))
    write(folder / "mallory" / "01.ipynb", mallory)
    write(folder / "zoe" / "01.ipynb", replace_cell(solved(), SIGMOID, WRONG_SIGMOID))
    out = root / "out" / "grades.csv"
    command = [
        sys.executable, "-m", "gancourse", "grade", str(folder), "--out", str(out),
        "--notebooks", "01", "--timeout", "20", "--check-timeout", "5",
    ]  # fmt: skip
    env = {**os.environ, "GANCOURSE_THREADS": "1"}
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    with open(out, newline="") as file:
        rows = list(csv.DictReader(file))
    by_key = {(row["student"], row["exercise"]): row for row in rows}
    assert len(by_key) == len(rows), "one row per student and exercise"
    return by_key, out.parent / "feedback", run


def result(graded, student: str, exercise: str) -> tuple[str, str]:
    row = graded[0][(student, exercise)]
    return row["result"], row["message"]


def test_solved_notebook_passes_every_exercise(graded):
    for exercise in ("sigmoid_backward", "numerical_gradient"):
        assert result(graded, "alice", exercise) == ("passed", "")
    row = graded[0][("alice", "sigmoid_backward")]
    assert row["notebook"] == "01_backprop_and_activations"
    assert row["file"] == os.path.join("alice", "my work.ipynb")
    assert float(row["seconds"]) >= 0


@pytest.mark.parametrize(
    "student, exercise, outcome, words",
    [
        ("bob", "sigmoid_backward", "not attempted", "not written yet"),
        ("bob", "numerical_gradient", "not attempted", "not written yet"),
        ("carol", "", "error", "not a readable notebook"),  # invalid JSON
        ("dave", "sigmoid_backward", "failed", "not by its derivative"),
        ("dave", "numerical_gradient", "error", "TypeError"),  # the student's raise
        (
            "erin",
            "sigmoid_backward",
            "error",
            "(cell 17) has a syntax error on its line 2",
        ),
        ("erin", "numerical_gradient", "passed", ""),
        ("frank", "sigmoid_backward", "passed", ""),
        ("frank", "numerical_gradient", "error", "did not finish in 5 s"),
        ("grace", "sigmoid_backward", "passed", ""),  # check cells deleted
        ("grace", "numerical_gradient", "passed", ""),
        ("heidi", "sigmoid_backward", "missing", "no function named sigmoid_backward"),
        ("heidi", "numerical_gradient", "passed", ""),
        ("ivan", "", "error", "this is notebook 05_dcgan, not the one assigned"),
    ],
)
def test_each_case_is_graded_on_its_own_row(graded, student, exercise, outcome, words):
    got = result(graded, student, exercise)
    assert got[0] == outcome, got  # the message says what went wrong
    assert words in result(graded, student, exercise)[1]


def test_an_endless_loop_in_a_cell_is_stopped_and_said(graded):
    feedback = (graded[1] / "frank.txt").read_text()
    assert "still running after the notebook's 20 s" in feedback


def test_a_submission_cannot_change_its_own_or_anothers_result(graded):
    # mallory replaced her check, forged a result and wrote grades.csv: still failed
    assert result(graded, "mallory", "sigmoid_backward")[0] == "failed"
    # zoe, graded after her with the same wrong answer, gets the same verdict
    assert result(graded, "zoe", "sigmoid_backward") == result(
        graded, "mallory", "sigmoid_backward"
    )
    assert result(graded, "zoe", "numerical_gradient")[0] == "passed"
    assert len([key for key in graded[0] if key[0] == "zoe"]) == 2


def test_feedback_is_one_plain_file_per_student(graded):
    files = sorted(path.stem for path in graded[1].iterdir())
    students = sorted({student for student, _ in graded[0]})
    assert files == students
    alice = (graded[1] / "alice.txt").read_text()
    assert "sigmoid_backward: passed." in alice
    assert "2 of 2 exercises passed." in alice
    dave = (graded[1] / "dave.txt").read_text()
    assert "not right yet. The check says:" in dave
    assert "your code raised an error" in dave


def test_grader_says_it_runs_student_code_with_your_rights(graded):
    assert "with your rights" in graded[2].stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "gancourse", "grade", "--help"],
        capture_output=True,
        text=True,
    ).stdout
    assert "bwrap" in help_text and "docker run" in help_text


# fast tests, no kernel


@pytest.fixture(scope="module")
def course():
    return course_notebooks()


def test_course_lists_every_notebook_with_its_exercises_in_order(course):
    assert list(course)[:2] == ["00", "01"]
    assert course["01"].exercises == (
        ("backprop_and_activations", "sigmoid_backward"),
        ("backprop_and_activations", "numerical_gradient"),
    )
    three = [exercise for _, exercise in course["03"].exercises]
    assert three == [
        "optimal_d",
        "value_at_optimum",
        "non_saturating_loss",
        "count_modes",
    ]


@pytest.mark.parametrize(
    "relative, student",
    [
        ("alice/anything.ipynb", "alice"),
        ("alice/week 3/05.ipynb", "alice"),
        ("bob.ipynb", "bob"),
        ("bob_05_dcgan.ipynb", "bob"),
        ("05_dcgan-bob.ipynb", "bob"),
        ("bob_05.ipynb", "bob"),
        ("05_dcgan.ipynb", "05_dcgan"),
    ],
)
def test_student_names_from_folders_or_file_names(course, tmp_path, relative, student):
    assert student_of(tmp_path / relative, tmp_path, course) == student


def test_identify_by_title_then_exercises_then_file_name(course):
    notebook = solved()
    assert identify(notebook, course, "x.ipynb").number == "01"
    notebook.cells = [c for c in notebook.cells if c.cell_type == "code"]  # no title
    assert identify(notebook, course, "x.ipynb").number == "01"
    empty = nbformat.v4.new_notebook()
    assert identify(empty, course, "my_07.ipynb").number == "07"
    assert identify(empty, course, "mine.ipynb") is None


def test_links_large_files_and_debris_are_reported_not_read(
    course, tmp_path, monkeypatch
):
    folder = tmp_path / "class"
    write(folder / "alice.ipynb", solved())
    (folder / "eve.ipynb").symlink_to(folder / "alice.ipynb")
    (folder / ".ipynb_checkpoints").mkdir()
    write(folder / ".ipynb_checkpoints" / "alice-checkpoint.ipynb", solved())
    write(folder / "__MACOSX" / "alice.ipynb", solved())
    (folder / "notes.txt").write_text("not a notebook")
    found = {s.student: s for s in find_submissions(folder, course)}
    assert sorted(found) == ["alice", "eve"]
    assert "link" in found["eve"].problem and found["eve"].notebook is None
    assert found["alice"].problem == "" and found["alice"].course.number == "01"
    monkeypatch.setattr("gancourse.grading.submissions.MAX_NOTEBOOK_BYTES", 1000)
    big = {s.student: s for s in find_submissions(folder, course)}["alice"]
    assert "larger than" in big.problem and big.notebook is None


def test_feedback_file_names_cannot_escape_the_folder():
    assert safe_file_name("../../etc/passwd") == "etc_passwd"
    assert safe_file_name("Ann Smith") == "Ann_Smith"
    assert safe_file_name("..") == "student"


def test_students_whose_names_look_alike_keep_one_feedback_file_each(tmp_path):
    names = ["Ann Smith", "Ann_Smith", "Ann Smith", "ann", "ANN"]
    files = feedback_files(tmp_path, names)
    assert [path.name for path in files.values()] == [
        "Ann_Smith.txt", "Ann_Smith-2.txt", "ann.txt", "ANN-2.txt"
    ]  # fmt: skip
    assert all(path.parent == tmp_path for path in files.values())


def test_feedback_text_counts_and_explains():
    rows = [
        {"student": "a", "notebook": "01_x", "exercise": "f", "result": "passed",
         "message": "", "file": "a.ipynb"},
        {"student": "a", "notebook": "01_x", "exercise": "g", "result": "failed",
         "message": "g(0) should be 1", "file": "a.ipynb"},
    ]  # fmt: skip
    text = feedback_text("a", rows, {"a.ipynb": "cells that raised an error: cell 3"})
    assert "- f: passed." in text
    assert "- g: not right yet. The check says: g(0) should be 1" in text
    assert "1 of 2 exercises passed." in text
    assert "cell 3" in text


@pytest.mark.parametrize(
    "args, says",
    [
        (["{missing}"], "is not a folder"),
        (["{empty}"], "no notebooks"),
        (["{folder}", "--notebooks", "42"], "--notebooks 42: not a course notebook"),
        (["{folder}", "--timeout", "0"], "--timeout 0: give a positive"),
        (["{folder}", "--check-timeout", "-1"], "--check-timeout -1: give a positive"),
        (["{folder}", "--mode", "fast"], "--mode fast: choose one of"),
        (["{folder}", "--out", "{existing}"], "already exists: pass --overwrite"),
        (["{folder}", "--out", "{folder}/g.txt"], "ending in .csv"),
    ],
)
def test_bad_options_are_one_error_line_before_any_work(tmp_path, capsys, args, says):
    folder = tmp_path / "class"
    write(folder / "alice.ipynb", solved())
    (tmp_path / "empty").mkdir()
    existing = tmp_path / "old.csv"
    existing.write_text("lecturer's grades")
    names = {"missing": tmp_path / "nope", "empty": tmp_path / "empty"}
    names |= {"folder": folder, "existing": existing}
    args = [a.format(**names) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "new.csv")]
    assert says in refused(capsys, "grade", *args)
    assert existing.read_text() == "lecturer's grades"
    assert not (tmp_path / "new.csv").exists()
    assert not (tmp_path / "feedback").exists()
