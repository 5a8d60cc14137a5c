"""Grading a class's notebooks: `python -m gancourse grade SUBMISSIONS`.

submissions (find the notebooks, name their students, tell which course notebook
each one is), execute (run one notebook in a fresh kernel, then every exercise's
check) and report (grades.csv and a feedback file per student). Student code runs
with the rights of whoever runs the grader: see `gancourse.cli.grade`.
"""

from gancourse.grading.execute import ExerciseResult, grade_notebook
from gancourse.grading.report import write_feedback, write_grades
from gancourse.grading.submissions import (
    CourseNotebook,
    Submission,
    course_notebooks,
    find_submissions,
)

__all__ = [
    "CourseNotebook",
    "ExerciseResult",
    "Submission",
    "course_notebooks",
    "find_submissions",
    "grade_notebook",
    "write_feedback",
    "write_grades",
]
