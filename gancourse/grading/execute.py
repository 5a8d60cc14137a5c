"""Run one submitted notebook in a fresh kernel, then each exercise's check in it.

The notebook runs in its own temporary folder, cell by cell, errors and all, within
a time limit for the whole notebook; a cell still running at the limit is
interrupted and the cells after it are skipped. Then, in the same kernel, the
grader calls every exercise's check itself, found by the exercise's name: a
deleted or edited check cell changes nothing. The check module is imported afresh,
so a notebook that replaced a check function does not grade itself. Each result
comes back as a display output of its own type, marked with a random token the
notebook never saw; anything a cell prints is never taken for a result.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from gancourse.grading.submissions import CourseNotebook
from gancourse.runtime import kernel_environment

RESULTS = ("passed", "failed", "not attempted", "error", "missing")
TIMED_OUT = "GancourseCellTimeout"  # the reply nbclient gives a cell past its time
CHECK_SECONDS = 60  # one exercise's check; they take a few seconds at most
MIME = "application/x-gancourse-grade+json"

_CHECK = """\
def _gancourse_check(namespace):
    import importlib
    import sys
    import time
    from IPython.display import display

    start = time.perf_counter()
    result, message = "passed", ""
    if {exercise!r} not in namespace:
        result = "missing"
    else:
        try:
            sys.modules.pop({module!r}, None)  # a fresh copy of the check
            module = importlib.import_module({module!r})
            module.check_{exercise}(namespace[{exercise!r}])
        except AssertionError as error:  # the check's verdict (ExerciseError)
            message = str(error)
            context = error.__context__
            if error.__suppress_context__ and isinstance(context, NotImplementedError):
                result = "not attempted"
            elif error.__cause__ is not None:
                result = "error"  # the student's code raised; the check says how
            else:
                result = "failed"
        except BaseException as error:
            result, message = "error", f"{{type(error).__name__}}: {{error}}"
    seconds = time.perf_counter() - start
    verdict = {{"token": {token!r}, "result": result, "message": message}}
    display({{{mime!r}: dict(verdict, seconds=seconds)}}, raw=True)


_gancourse_check(globals())
del _gancourse_check
"""


@dataclass
class ExerciseResult:
    """One exercise's grade: what happened, the check's words and its time."""

    exercise: str
    result: str  # one of RESULTS
    message: str = ""
    seconds: float = 0.0


@dataclass
class NotebookRun:
    """A graded notebook: each exercise's result, and what happened to the run."""

    results: list[ExerciseResult]
    seconds: float
    failed_cells: list[str] = field(default_factory=list)  # "cell 12: NameError"
    note: str = ""  # the run stopped early: why


def grade_notebook(
    notebook: Any,
    course: CourseNotebook,
    timeout: float = 300,
    mode: str = "quick",
    check_timeout: float = CHECK_SECONDS,
) -> NotebookRun:
    """Run `notebook` headless in `mode`, then grade each of `course`'s exercises."""
    from nbclient import NotebookClient

    notebook = _fresh_copy(notebook)
    token = secrets.token_hex(16)  # marks the checks' outputs; no cell has seen it
    start = time.monotonic()
    run = NotebookRun([], 0.0)
    with tempfile.TemporaryDirectory(prefix="gancourse-grade-") as folder:
        client = NotebookClient(
            notebook,
            kernel_name="python3",  # this Python, whatever kernel the file names
            allow_errors=True,
            resources={"metadata": {"path": folder}},
            # a cell past its time is interrupted and finished by nbclient itself,
            # so no reader of the kernel's outputs is left behind to take the
            # outputs of the cells after it (CellTimeoutError leaves one running)
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMED_OUT, "evalue": "", "traceback": []},
        )
        environment = grading_environment(mode)
        with client.setup_kernel(env=environment, stderr=subprocess.DEVNULL):
            dead = _run_cells(client, run, start + timeout, timeout)
            for module, exercise in course.exercises:
                if dead:
                    run.results.append(ExerciseResult(exercise, "error", run.note))
                    continue
                result, dead = check_exercise(
                    client, module, exercise, token, check_timeout
                )
                if result.result == "missing":
                    _explain_missing(result, notebook, run.note)
                if dead:
                    run.note = result.message
                run.results.append(result)
    run.seconds = time.monotonic() - start
    return run


def _run_cells(client, run: NotebookRun, deadline: float, timeout: float) -> bool:
    """Run the code cells in order until the deadline; True if the kernel died."""
    from nbclient.exceptions import DeadKernelError

    for index, cell in enumerate(client.nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            run.note = (
                f"the notebook ran past its {timeout:g} s: cells from {index + 1} on "
                "were not run"
            )
            return False
        client.timeout = math.ceil(left)
        try:
            timed_out = execute(client, cell, index)
        except DeadKernelError:
            run.note = (
                f"Python stopped in cell {index + 1} (a crash, running out of memory, "
                "or exit()): the exercises could not be checked"
            )
            return True
        if timed_out:
            run.note = (
                f"cell {index + 1} was still running after the notebook's {timeout:g} "
                "s (an endless loop?): stopped there"
            )
            return False
        run.failed_cells += _errors(cell, index)
        cell.outputs = []  # only the errors are kept
    return False


def grading_environment(mode: str) -> dict[str, str]:
    """The kernel's variables: headless in `mode`, one thread unless set, no display."""
    env = kernel_environment(mode)
    env.setdefault("GANCOURSE_THREADS", "1")  # a class is graded beside other work
    env["MPLBACKEND"] = "Agg"
    return env


def execute(client, cell, index: int) -> bool:
    """Run one cell; True if it ran past client.timeout and was interrupted."""
    replies = []
    client.on_cell_executed = lambda **hook: replies.append(hook["execute_reply"])
    client.execute_cell(cell, index)
    return bool(replies) and replies[-1]["content"].get("ename") == TIMED_OUT


def check_exercise(
    client, module: str, exercise: str, token: str, seconds: float
) -> tuple[ExerciseResult, bool]:
    """Run one exercise's check in the kernel; (its result, whether the kernel died)."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    source = _CHECK.format(
        exercise=exercise, module=f"gancourse.checks.{module}", token=token, mime=MIME
    )
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    client.timeout = math.ceil(seconds)
    try:
        timed_out = execute(client, cell, len(client.nb.cells) - 1)
    except DeadKernelError:
        message = f"Python stopped while {exercise} was checked (a crash or exit())"
        return ExerciseResult(exercise, "error", message), True
    if timed_out:
        message = (
            f"the check did not finish in {seconds:g} s: does {exercise} loop "
            "forever on some input?"
        )
        return ExerciseResult(exercise, "error", message, seconds), False
    for output in cell.outputs:
        verdict = output.get("data", {}).get(MIME)
        if isinstance(verdict, dict) and verdict.get("token") == token:
            result = ExerciseResult(
                exercise,
                verdict["result"],
                verdict["message"],
                round(float(verdict["seconds"]), 2),
            )
            return result, False
    message = (
        "the check's result did not come back: did the notebook change how Jupyter "
        "displays outputs?"
    )
    raised = [o for o in cell.outputs if o.get("output_type") == "error"]
    if raised:  # what stopped the check cell, for whoever reads the grades
        message += f" (the check cell raised {raised[0].get('ename')})"
    return ExerciseResult(exercise, "error", message), False


def _explain_missing(result: ExerciseResult, notebook: Any, note: str) -> None:
    """Say why an exercise's function was never defined: syntax, a stop, a rename."""
    definition = re.compile(rf"^def\s+{result.exercise}\s*\(", re.MULTILINE)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not definition.search(cell.source):
            continue
        try:
            compile(_without_magics(cell.source), f"cell {index + 1}", "exec")
        except SyntaxError as error:
            result.result = "error"
            result.message = (
                f"the cell that defines {result.exercise} (cell {index + 1}) has a "
                f"syntax error on its line {error.lineno}: {error.msg}"
            )
            return
    if note:
        result.result, result.message = (
            "error",
            f"{result.exercise} was never run: {note}",
        )
        return
    result.message = (
        f"no function named {result.exercise}: the grader finds each exercise by its "
        "name, so keep the name it was given (was it renamed, or its cell deleted?)"
    )


def _without_magics(source: str) -> str:
    """The cell's Python, its IPython lines (%magic, !shell) blanked."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line
        for line in source.split("\n")
    )


def _fresh_copy(notebook: Any) -> Any:
    """The notebook without outputs or widget state (they are the student's, stale)."""
    notebook = copy.deepcopy(notebook)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def _errors(cell: Any, index: int) -> list[str]:
    """'cell N: ErrorName: message' for the error a code cell raised, if any."""
    return [
        f"cell {index + 1}: {output.get('ename', 'Error')}: {output.get('evalue', '')}"[
            :300
        ]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
        and output.get("ename") != "ExerciseError"
    ]  # a check cell's ExerciseError is graded on its own row
