"""The package's house rules: no private imports, one error base, one CLI contract."""

import ast
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import gancourse
from gancourse import errors
from gancourse.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parent.parent


# ---- no module imports a private name of another ------------------------------


def is_private(name: str) -> bool:
    """`_name` is private; `__name__`-style dunders are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str) -> list[str]:
    """Every `from gancourse... import _name` (or a private module) in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "gancourse"
        ):
            private_module = any(is_private(p) for p in node.module.split("."))
            for alias in node.names:
                if private_module or is_private(alias.name):
                    found.append(f"from {node.module} import {alias.name}")
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "gancourse" and any(is_private(p) for p in parts):
                    found.append(f"import {alias.name}")
    return found


def notebook_code(path: Path) -> str:
    """The code cells of a notebook, magics dropped, as one Python source."""
    cells = json.loads(path.read_text())["cells"]
    lines = [
        line
        for cell in cells
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if not line.lstrip().startswith(("%", "!"))
    ]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("from gancourse.data.loading import _class_names", True),
        ("from gancourse.cli import (\n    main,\n    _check_device,\n)", True),
        ("from gancourse.cli.train import run, _remaining as remaining", True),
        ("import gancourse.data._hidden", True),
        ("from gancourse.data._hidden import x", True),
        ("from gancourse.data import load_dataset", False),
        ("from gancourse import __version__", False),
        ("from gancourse.__main__ import main", False),
        ("from torch.nn.utils.parametrizations import _SpectralNorm", False),
        ("def f():\n    from gancourse.cli.options import _folders", True),
    ],
)
def test_the_private_import_scan_catches_each_spelling(source, caught):
    assert bool(private_imports(source)) is caught


def test_no_module_imports_a_private_name_of_another():
    sources = {
        str(p.relative_to(ROOT)): p.read_text()
        for folder in ("gancourse", "tests", "benchmarks")
        for p in (ROOT / folder).rglob("*.py")
    }
    sources |= {
        str(p.relative_to(ROOT)): notebook_code(p)
        for p in (ROOT / "notebooks").glob("*.ipynb")
    }
    offenders = {
        name: found
        for name, source in sources.items()
        if (found := private_imports(source))
    }
    assert not offenders, offenders


# ---- one base class for every error a user can cause --------------------------


def all_modules():
    """Every module of the package, imported (widgets need ipywidgets: lab extra)."""
    names = [gancourse.__name__]
    prefix = gancourse.__name__ + "."
    names += [m.name for m in pkgutil.walk_packages(gancourse.__path__, prefix)]
    return [importlib.import_module(name) for name in names]


# exceptions that are not user errors: a check's verdict and fit's stop signals
NOT_USER_ERRORS = {
    "ExerciseError",
    "CancelFit",
    "NonFiniteLossError",
    "_NoValueError",  # checks/probes.py: signals inside a probe, never raised out
    "_DeviceMixError",
}


def test_every_error_class_of_the_package_derives_from_one_base():
    defined = {
        obj
        for module in all_modules()
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__.startswith("gancourse")
    }
    assert errors.UsageError in defined and len(defined) > 8
    strays = sorted(
        cls.__qualname__
        for cls in defined
        if not issubclass(cls, errors.GancourseError)
        and cls.__name__ not in NOT_USER_ERRORS
    )
    assert not strays, f"errors a user can cause must derive GancourseError: {strays}"


def test_user_errors_are_still_the_builtin_errors_they_refine():
    assert issubclass(errors.UsageError, ValueError)
    assert issubclass(errors.UnknownDatasetError, errors.UsageError)
    assert issubclass(errors.UsageTypeError, TypeError)
    assert issubclass(errors.DatasetUnavailableError, RuntimeError)
    assert issubclass(errors.CheckpointError, ValueError)


def test_a_user_error_is_one_error_line_and_status_2(monkeypatch, capsys):
    def refuse(args):
        raise errors.DatasetUnavailableError("'mnist' is not here.\nTo fix: ...")

    monkeypatch.setattr("gancourse.cli.datasets.describe_datasets", refuse)
    assert main(["datasets"]) == 2
    err = capsys.readouterr().err
    assert err == "error: 'mnist' is not here. To fix: ...\n"


@pytest.mark.parametrize("bug", [KeyError("x"), ValueError("a bug"), TypeError("t")])
def test_a_bug_in_our_code_keeps_its_traceback(monkeypatch, bug):
    def broken(root):
        raise bug

    monkeypatch.setattr("gancourse.cli.datasets.describe_datasets", broken)
    with pytest.raises(type(bug)):
        main(["datasets"])


# ---- the command line ----------------------------------------------------------


def test_every_command_has_a_working_help(capsys):
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    assert list(COMMANDS) == ["datasets", "train", "sample", "classifier",
                              "evaluate", "export", "student", "workspace",
                              "grade"]  # fmt: skip
    for name, help in COMMANDS.items():
        assert name in top and help[:30] in top
        assert main([name, "--help"]) == 0
        assert capsys.readouterr().out.startswith(f"usage: python -m gancourse {name}")


def test_a_command_imports_only_its_own_module():
    code = (
        "import sys\n"
        "from gancourse.cli import main\n"
        "assert main(['--help']) == 0\n"
        "loaded = [m for m in sys.modules if m.startswith('gancourse.cli.')]\n"
        "assert loaded == [], loaded\n"
        "assert 'torchmetrics' not in sys.modules\n"
        "assert main(['student', '--help']) == 0\n"
        "loaded = [m for m in sys.modules if m.startswith('gancourse.cli.')]\n"
        "assert loaded == ['gancourse.cli.student'], loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_python_m_gancourse_help_runs_as_a_program():
    result = subprocess.run(
        [sys.executable, "-m", "gancourse", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout and "evaluate" in result.stdout


def test_main_module_is_a_few_lines():
    lines = (ROOT / "gancourse" / "__main__.py").read_text().splitlines()
    assert len(lines) <= 10
    parser = build_parser()
    assert parser.prog == "python -m gancourse"
