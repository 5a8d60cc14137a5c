"""Each exercise check passes the right answer and names the usual mistakes."""

import pytest

from gancourse.checks import ExerciseError, check_scale_pixels, check_to_display


def stub(*args):
    raise NotImplementedError


def test_scale_pixels_check_accepts_the_solution(capsys):
    check_scale_pixels(lambda x: x.float() / 127.5 - 1)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x: x / 255, "that is \\[0, 1\\]"),
        (lambda x: 2 * x.float() / 250 - 1, "divided by 250"),
        (lambda x: x // 127.5 - 1, "the middle is not"),
        (lambda x: x - 1, "convert to float"),
        (lambda x: x.float().flatten() / 127.5 - 1, "changed the shape"),
        (lambda x: x.float() / 127.5, "0 should map to -1"),
        (lambda x: x.numpy() / 127.5 - 1, "should return a tensor"),
        (lambda x: undefined_name, "raised NameError"),  # noqa: F821
    ],
)
def test_scale_pixels_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_scale_pixels(answer)


def test_to_display_check_accepts_the_solution(capsys):
    check_to_display(lambda x: (x + 1) / 2)
    assert "Correct" in capsys.readouterr().out


def _in_place(x):
    x.add_(1).div_(2)
    return x


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stub, "not written yet"),
        (lambda x: x, "unchanged"),
        (lambda x: x / 2, "did not shift"),
        (_in_place, "changed the images it was given"),
        (lambda x: x + 1, "-1 should map to 0"),
    ],
)
def test_to_display_check_names_the_mistake(answer, says):
    with pytest.raises(ExerciseError, match=says):
        check_to_display(answer)
