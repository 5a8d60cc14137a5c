"""What the grader writes: grades.csv (a row per exercise), feedback per student."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from gancourse.files import write_text_atomic

COLUMNS = ("student", "notebook", "exercise", "result", "message", "seconds", "file")
_SAY = {
    "passed": "passed.",
    "failed": "not right yet. The check says: {message}",
    "not attempted": "not attempted yet: the stub `raise NotImplementedError` is "
    "still there.",
    "error": "your code raised an error. {message}",
    "missing": "not found. {message}",
}


def write_grades(path: Path, rows: list[dict]) -> Path:
    """Write every row to `path` as CSV (COLUMNS), atomically."""
    text = io.StringIO()
    writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text_atomic(path, text.getvalue())


def feedback_text(student: str, rows: list[dict], notes: dict[str, str]) -> str:
    """A student's feedback in plain words: each notebook, each exercise, a total."""
    lines = [f"Feedback for {student}", ""]
    by_file: dict[str, list[dict]] = {}
    for row in rows:
        by_file.setdefault(row["file"], []).append(row)
    for file, file_rows in by_file.items():
        notebook = file_rows[0]["notebook"] or "(not a course notebook)"
        lines.append(f"{notebook}, from {file}:")
        for row in file_rows:
            if not row["exercise"]:
                lines.append(f"- not graded: {row['message']}")
                continue
            said = _SAY[row["result"]].format(message=row["message"]).strip()
            lines.append(f"- {row['exercise']}: {said}")
        if notes.get(file):
            lines.append(f"  While the notebook ran: {notes[file]}")
        graded = [row for row in file_rows if row["exercise"]]
        if graded:
            passed = sum(row["result"] == "passed" for row in graded)
            lines.append(f"  {passed} of {len(graded)} exercises passed.")
        lines.append("")
    return "\n".join(lines)


def write_feedback(path: Path, student: str, rows: list[dict], notes: dict) -> Path:
    """Write a student's feedback to `path`, atomically."""
    return write_text_atomic(path, feedback_text(student, rows, notes))


def feedback_files(folder: Path, students: list[str]) -> dict[str, Path]:
    """Each student's feedback file in folder: a safe name, made unique (-2, -3)."""
    files: dict[str, Path] = {}
    for student in students:
        if student in files:
            continue
        stem = base = safe_file_name(student)
        taken = {path.stem.lower() for path in files.values()}  # macOS: ann = Ann
        count = 1
        while stem.lower() in taken:  # 'Ann Smith' and 'Ann_Smith' are two students
            count += 1
            stem = f"{base}-{count}"
        files[student] = Path(folder) / f"{stem}.txt"
    return files


def safe_file_name(name: str) -> str:
    """A student's name as a file name: letters, digits, '.', '-', '_' only."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "student"
