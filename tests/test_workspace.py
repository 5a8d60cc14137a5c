"""The student workspace: made on first use, never overwritten, reset on request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import nbformat
import pytest

from gancourse.__main__ import main
from gancourse.errors import UsageError
from gancourse.student import BEGIN, STUB
from gancourse.workspace import (
    SOLUTIONS,
    find_notebook,
    prepare_workspace,
    reset_notebook,
)
from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EDIT = "# my own work, not to be lost\n"
MAKE = shutil.which("make")


def _edit(path: Path) -> str:
    """Add a code cell to the notebook at `path`, as a student would; return it."""
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(EDIT + "answer = 42"))
    nbformat.write(notebook, path)
    return path.read_text()


def _sources(path: Path, kind: str | None = None) -> str:
    """The sources of the notebook's cells (of one kind, e.g. 'code'), joined."""
    cells = nbformat.read(path, as_version=4).cells
    return "\n".join(c.source for c in cells if kind in (None, c.cell_type))


@pytest.fixture
def notebooks(tmp_path):
    """A copy of three of the course's notebooks (two with exercises)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for path in NOTEBOOKS[:3]:
        shutil.copy(path, folder)
    return folder


def test_a_new_workspace_holds_student_copies_and_read_only_solutions(
    notebooks, tmp_path
):
    workspace = tmp_path / "workspace"
    report = prepare_workspace(notebooks, workspace)
    names = sorted(path.name for path in notebooks.glob("*.ipynb"))
    assert sorted(path.name for path in report.created) == names
    assert not report.kept
    for name in names:
        student = _sources(workspace / name, "code")
        source = _sources(notebooks / name, "code")
        assert BEGIN not in student and (BEGIN not in source or STUB in student)
        solved = workspace / SOLUTIONS / name
        assert not os.access(solved, os.W_OK) or os.getuid() == 0
        assert not solved.stat().st_mode & 0o222  # nobody may write it
        assert _sources(solved, "code") == source  # solutions kept
        assert f"(../{name})" in _sources(solved)  # the note links the own copy
    with_exercises = [n for n in names if BEGIN in _sources(notebooks / n, "code")]
    assert with_exercises, "the fixture must include notebooks with exercises"


def test_preparing_again_keeps_a_students_edits(notebooks, tmp_path):
    workspace = tmp_path / "workspace"
    prepare_workspace(notebooks, workspace)
    edited = _edit(workspace / NOTEBOOKS[1].name)
    report = prepare_workspace(notebooks, workspace)
    assert (workspace / NOTEBOOKS[1].name).read_text() == edited
    assert not report.created and len(report.kept) == 3


def test_a_deleted_copy_is_made_again_and_solutions_follow_the_source(
    notebooks, tmp_path
):
    workspace = tmp_path / "workspace"
    prepare_workspace(notebooks, workspace)
    (workspace / NOTEBOOKS[0].name).unlink()
    source = nbformat.read(notebooks / NOTEBOOKS[0].name, as_version=4)
    source.cells.append(nbformat.v4.new_markdown_cell("a new paragraph"))
    nbformat.write(source, notebooks / NOTEBOOKS[0].name)
    report = prepare_workspace(notebooks, workspace)
    assert [path.name for path in report.created] == [NOTEBOOKS[0].name]
    assert "a new paragraph" in _sources(workspace / SOLUTIONS / NOTEBOOKS[0].name)


def test_reset_keeps_the_old_copy_beside_a_fresh_one(notebooks, tmp_path):
    workspace = tmp_path / "workspace"
    prepare_workspace(notebooks, workspace)
    name = NOTEBOOKS[2].name
    edited = _edit(workspace / name)
    kept, fresh = reset_notebook(name[:2], notebooks, workspace)
    assert kept.read_text() == edited and kept.name.startswith(
        f"{Path(name).stem}.before-reset-"
    )
    assert fresh == workspace / name and EDIT not in _sources(fresh)
    kept_again, _ = reset_notebook(name[:2], notebooks, workspace)  # same second
    assert kept_again != kept and kept.exists() and kept_again.exists()


@pytest.mark.parametrize("which", ["5", "05", "05_dcgan", "05_dcgan.ipynb"])
def test_a_notebook_is_found_by_number_or_name(which):
    assert find_notebook(which, NOTEBOOKS).name == "05_dcgan.ipynb"


@pytest.mark.parametrize(
    ("which", "message"), [("", "name the notebook"), ("12", "no notebook '12'")]
)
def test_a_reset_of_no_notebook_is_one_clear_error(which, message):
    with pytest.raises(UsageError, match=message):
        find_notebook(which, NOTEBOOKS)


def test_the_workspace_may_not_lie_inside_the_tracked_notebooks(notebooks):
    with pytest.raises(UsageError, match="must lie outside"):
        prepare_workspace(notebooks, notebooks / "workspace")
    assert not (notebooks / "workspace").exists()


def test_student_out_never_overwrites_without_being_asked(notebooks, tmp_path, capsys):
    out = tmp_path / "handout"
    assert main(["student", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    edited = _edit(out / NOTEBOOKS[0].name)
    assert main(["student", "--notebooks", str(notebooks), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / NOTEBOOKS[0].name).read_text() == edited
    argv = ["student", "--notebooks", str(notebooks), "--out", str(out), "--overwrite"]
    assert main(argv) == 0
    assert EDIT not in _sources(out / NOTEBOOKS[0].name)


def test_tests_and_make_course_never_run_the_workspace():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == [
        "tests",
        "notebooks",
    ]
    makefile = (ROOT / "Makefile").read_text()
    course = makefile[makefile.index("\ncourse:") :].split("\n\n")[0]
    assert "notebooks/*.ipynb" in course and "workspace" not in course
    assert "/workspace/" in (ROOT / ".gitignore").read_text().split()


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_student_and_make_lab_keep_an_edited_workspace_notebook(tmp_path):
    """`make student`, then `make lab` for real: JupyterLab serves the workspace."""
    workspace = tmp_path / "workspace"
    make = [MAKE, "-s", "-C", str(ROOT), f"WORKSPACE={workspace}"]
    subprocess.run([*make, "student"], check=True, capture_output=True)
    edited = _edit(workspace / "05_dcgan.ipynb")
    subprocess.run([*make, "student"], check=True, capture_output=True)
    assert (workspace / "05_dcgan.ipynb").read_text() == edited
    port, token = free_port(), "gancourse-workspace-test"
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_CONFIG_DIR=str(tmp_path / "c"))
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [*make, "lab", f"PORT={port}", "LAB_ARGS=--no-browser"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api/contents?token={token}"
        wait_until_up(url, server, timeout=120)
        with urllib.request.urlopen(url, timeout=10) as answer:
            listing = json.load(answer)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()
    served = {item["name"] for item in listing["content"]}
    assert {"05_dcgan.ipynb", SOLUTIONS} <= served  # the root is the workspace
    assert (workspace / "05_dcgan.ipynb").read_text() == edited
    subprocess.run([*make, "reset", "NB=05"], check=True, capture_output=True)
    kept = list(workspace.glob("05_dcgan.before-reset-*.ipynb"))
    assert len(kept) == 1 and kept[0].read_text() == edited
    assert EDIT not in _sources(workspace / "05_dcgan.ipynb")
    refused = subprocess.run([*make, "reset"], capture_output=True, text=True)
    assert refused.returncode != 0 and "make reset NB=05" in refused.stderr


def test_course_pages_the_notebooks_link_are_copied_read_only(notebooks, tmp_path):
    """A notebook's link to reports.md must work in the workspace and solutions/."""
    (notebooks / "reports.md").write_text("# The reports\n")
    workspace = tmp_path / "workspace"
    prepare_workspace(notebooks, workspace)
    for folder in (workspace, workspace / SOLUTIONS):
        page = folder / "reports.md"
        assert page.read_text() == "# The reports\n"
        assert not page.stat().st_mode & 0o222
    (notebooks / "reports.md").write_text("# The reports, revised\n")
    prepare_workspace(notebooks, workspace)  # refreshed like the solutions
    assert (workspace / "reports.md").read_text() == "# The reports, revised\n"
