"""`python -m gancourse grade`: grade a class's notebooks, exercise by exercise.

Each submitted notebook runs in a fresh kernel in its own temporary folder, in
quick mode unless --mode, within --timeout seconds; then every exercise's check
runs on the student's function of that name. A broken submission (not JSON, a
syntax error, an endless loop, a deleted check cell, a renamed exercise, another
notebook than the one assigned) is reported on its own row; the run goes on.
Bad options are one `error:` line before anything runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gancourse.cli.options import check_new_file, check_writable, writing
from gancourse.errors import UsageError

WARNING = (
    "note: grading runs each student's code with your rights: it can read and "
    "change your files and use the network. Run it in a container to keep it "
    "away from them (`python -m gancourse grade --help` shows how)."
)
SANDBOX = (
    "bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-all "
    '--setenv MPLCONFIGDIR /tmp --bind "$PWD/graded" "$PWD/graded" '
    ".venv/bin/python -m gancourse grade SUBMISSIONS --out graded/grades.csv"
)
CONTAINER = (
    'docker run --rm --network none -v "$PWD/SUBMISSIONS":/submissions:ro '
    '-v "$PWD/graded":/graded IMAGE python -m gancourse grade /submissions '
    "--out /graded/grades.csv"
)
MODES = ("quick", "laptop", "full")


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The `grade` sub-command."""
    command.description = __doc__.split("\n\n")[1].replace("\n", " ")
    command.formatter_class = argparse.RawDescriptionHelpFormatter
    command.epilog = (
        "Student code runs with the rights of whoever runs this command. To keep it\n"
        "off your files and the network, run the grader in a sandbox. With Debian's\n"
        "bubblewrap (`apt install bubblewrap`), from the course folder, every file\n"
        "read-only but graded/ (make it first), no network; SUBMISSIONS must not be\n"
        "under /tmp, which the sandbox replaces:\n"
        f"  {SANDBOX}\n"
        "or in a container, from an image with the course installed (IMAGE; not\n"
        "tried on the course's machines, which have no Docker):\n"
        f"  {CONTAINER}"
    )
    command.add_argument(
        "submissions",
        type=Path,
        metavar="SUBMISSIONS",
        help="a folder: one folder per student (any file names), or notebooks "
        "named by student (alice.ipynb, alice_05_dcgan.ipynb)",
    )
    command.add_argument("--out", type=Path, default=Path("grades.csv"))
    command.add_argument(
        "--feedback",
        type=Path,
        metavar="DIR",
        help="one feedback file per student (default: feedback/ beside --out)",
    )
    command.add_argument(
        "--notebooks",
        nargs="+",
        metavar="NN",
        help="the notebooks assigned, e.g. 05 07; others are reported, not graded "
        "(default: any course notebook)",
    )
    command.add_argument(
        "--timeout",
        type=float,
        default=300,
        metavar="S",
        help="seconds for each notebook to run before its checks (default 300)",
    )
    command.add_argument(
        "--check-timeout",
        type=float,
        default=60,
        metavar="S",
        help="seconds for each exercise's check (default 60)",
    )
    command.add_argument(
        "--mode",
        default="quick",
        help="the mode the notebooks run in: quick (default), laptop or full",
    )
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out and the feedback files if they exist (default: refuse)",
    )


def run(args: argparse.Namespace) -> int:
    """Check the options, then grade every submission, writing as it goes."""
    from gancourse.grading import course_notebooks, find_submissions
    from gancourse.grading.report import feedback_files

    course = course_notebooks()
    assigned = _assigned(args.notebooks, course)
    feedback = args.feedback or args.out.parent / "feedback"
    _check_options(args, feedback)
    submissions = find_submissions(args.submissions, course, assigned)
    if not submissions:
        raise UsageError(
            f"no notebooks (*.ipynb) in {args.submissions}: pass the folder that "
            "holds the students' notebooks or their folders."
        )
    files = feedback_files(feedback, [s.student for s in submissions])
    taken = [student for student, path in files.items() if path.exists()]
    if taken and not args.overwrite:
        raise UsageError(
            f"{feedback} already holds feedback for {taken[0]}: pass "
            "--overwrite to replace it, or choose another --feedback folder."
        )
    print(WARNING)
    rows: list[dict] = []
    notes: dict[str, dict[str, str]] = {}  # student -> file -> what the run said
    args.written = []
    for submission in submissions:
        start = time.monotonic()
        new, note = _grade(submission, args)
        rows += new
        notes.setdefault(submission.student, {})[new[0]["file"]] = note
        _save(args.out, files, rows, notes, [submission.student])
        args.written = [args.out, feedback]
        seconds = time.monotonic() - start
        file = new[0]["file"]
        print(f"{submission.student}  {file}  {_summary(new)}  ({seconds:.0f} s)")
    _save(args.out, files, rows, notes, list(notes))  # undo what a notebook wrote
    print(f"wrote {args.out} ({len(rows)} rows) and {feedback}/ (one file per student)")
    return 0


def _grade(submission, args: argparse.Namespace) -> tuple[list[dict], str]:
    """One submission's CSV rows, and what its run said (a stop, failed cells)."""
    from gancourse.grading import grade_notebook

    file = str(submission.path.relative_to(args.submissions))
    name = submission.course.name if submission.course else ""
    if submission.problem:
        return [
            _row(submission.student, name, "", "error", submission.problem, 0, file)
        ], ""
    graded = grade_notebook(
        submission.notebook,
        submission.course,
        args.timeout,
        args.mode,
        args.check_timeout,
    )
    rows = [
        _row(submission.student, name, r.exercise, r.result, r.message, r.seconds, file)
        for r in graded.results
    ]
    said = [graded.note] if graded.note else []
    if graded.failed_cells:
        said.append("cells that raised an error: " + "; ".join(graded.failed_cells))
    return rows, " ".join(said)


def _save(
    out: Path, files: dict, rows: list[dict], notes: dict, students: list
) -> None:
    """Write grades.csv and the named students' feedback from what is in memory."""
    from gancourse.grading import write_feedback, write_grades

    with writing(out, "--out"):
        write_grades(out, rows)
        for student in students:
            mine = [row for row in rows if row["student"] == student]
            write_feedback(files[student], student, mine, notes.get(student, {}))


def _assigned(numbers: list[str] | None, course: dict) -> list[str] | None:
    """--notebooks as course numbers ("5", "05" or "05_dcgan" -> "05")."""
    if not numbers:
        return None
    assigned = []
    for text in numbers:
        number = text.split("_", 1)[0].zfill(2)
        if not number.isdigit() or number not in course:
            raise UsageError(
                f"--notebooks {text}: not a course notebook; choose from "
                f"{', '.join(course)}."
            )
        assigned.append(number)
    return assigned


def _check_options(args: argparse.Namespace, feedback: Path) -> None:
    """Every option that cannot work, as one UsageError, before anything runs."""
    if not args.submissions.is_dir():
        raise UsageError(
            f"{args.submissions} is not a folder: pass the folder that holds the "
            "students' notebooks."
        )
    if args.mode not in MODES:
        raise UsageError(f"--mode {args.mode}: choose one of {', '.join(MODES)}.")
    for flag, seconds in (
        ("--timeout", args.timeout),
        ("--check-timeout", args.check_timeout),
    ):
        if not 0 < seconds < float("inf"):
            raise UsageError(f"{flag} {seconds:g}: give a positive number of seconds.")
    check_new_file(args.out, "--out", ".csv", args.overwrite)
    check_writable(args.out, "--out")
    if feedback.exists() and not feedback.is_dir():
        raise UsageError(f"--feedback {feedback} is a file; give a folder.")
    check_writable(feedback / "student.txt", "--feedback")


def _row(student, notebook, exercise, result, message, seconds, file) -> dict:
    """One CSV row."""
    return {
        "student": student,
        "notebook": notebook,
        "exercise": exercise,
        "result": result,
        "message": " ".join(str(message).split()),
        "seconds": f"{seconds:.2f}",
        "file": file,
    }


def _summary(rows: list[dict]) -> str:
    """'2 passed, 1 failed' for one submission's rows, or its problem."""
    if len(rows) == 1 and not rows[0]["exercise"]:
        return f"not graded: {rows[0]['message']}"
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    return ", ".join(f"{n} {result}" for result, n in counts.items())
