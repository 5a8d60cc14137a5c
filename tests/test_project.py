"""The project's own conventions: environments agree, notebooks are clean and mapped."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _normalised(requirements) -> set[str]:
    """Requirement strings in one canonical form, e.g. 'torch==2.14.1'."""
    out = set()
    for text in requirements:
        req = Requirement(text)
        out.add(f"{req.name.lower().replace('_', '-')}{req.specifier}")
    return out


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = env["dependencies"]
    assert "python=3.11" in conda and "pip" in conda
    pip_section = next(d["pip"] for d in conda if isinstance(d, dict))
    assert "-e ." in pip_section, "environment.yml should install gancourse itself"
    mirrored = [line for line in pip_section if line != "-e ."]
    assert _normalised(mirrored) == _normalised(wanted)
    assert len(mirrored) == len(wanted), "a dependency is listed twice"


def test_torch_and_torchvision_are_pinned_as_a_pair():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {
        Requirement(d).name: str(Requirement(d).specifier)
        for d in project["dependencies"]
    }
    assert pins["torch"].startswith("==") and pins["torchvision"].startswith("==")


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [], f"{path.name} has outputs"
                assert cell["execution_count"] is None, f"{path.name} has counts"


def test_readme_course_map_lists_exactly_the_notebooks():
    readme = (ROOT / "README.md").read_text()
    mapped = re.findall(r"^\|\s*(\d\d_[a-z0-9_]+)\s*\|", readme, flags=re.MULTILINE)
    assert len(mapped) == len(set(mapped)), "a notebook is listed twice"
    assert sorted(mapped) == [p.stem for p in NOTEBOOKS]


def test_notebooks_follow_the_template():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        first = "".join(cells[0]["source"])
        assert first.startswith("# "), f"{path.name}: no title"
        for heading in ("What you will learn", "Prerequisites", "Time"):
            assert heading in first, f"{path.name}: the first cell lacks {heading!r}"
        text = "".join("".join(c["source"]) for c in cells)
        assert "setup(" in text, f"{path.name}: no setup cell"
        for heading in ("## Try this", "## Summary"):
            assert heading in text, f"{path.name}: no {heading!r} section"
        assert "### BEGIN SOLUTION" in text, f"{path.name}: no exercise"


def test_the_mode_line_is_each_notebooks_first_output():
    """setup() prints the mode first: nothing may print before it."""
    import ast

    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        first = next(c for c in cells if c["cell_type"] == "code")
        tree = ast.parse("".join(first["source"]))
        calls = [
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        ]
        assert "setup" in calls, f"{path.name}: the first code cell must call setup()"
        before = calls[: calls.index("setup")]
        assert not {"print", "display", "show_images"} & set(before), path.name


LINTED = [
    "conftest.py",
    "gancourse",
    "tests",
    "benchmarks",
    "data",
    "notebooks",
    "book",
]


def test_code_is_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *LINTED],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_ruff_formatted():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", *LINTED],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
