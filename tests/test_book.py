"""`make book`: the notebooks prepared for a static site, built, and checked offline.

The unit tests prepare hand-made notebooks (solutions, widgets, errors). The
browser tests run book/check.py on hand-made pages, each broken in one way the
check must catch, and on a small book (notebooks 00 and 01, quick mode) built
the way `make book` builds the whole one.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from book import build, check
from book.prepare import (
    HIDE_PROMPT,
    SHOW_PROMPT,
    BookError,
    prepare,
    replace_widgets,
    treat_solutions,
    unlink_absent,
)
from gancourse.student import STUB, clear_solutions

ROOT = Path(__file__).resolve().parent.parent
HAS_BOOK = importlib.util.find_spec("jupyter_book") is not None
HAS_BROWSER = check.CHROMIUM and importlib.util.find_spec("playwright") is not None
SOLVED = """\
def half(x):
    \"\"\"Half of x.\"\"\"
    ### BEGIN SOLUTION
    return x / 2
    ### END SOLUTION"""


def _notebook(*sources: str) -> nbformat.NotebookNode:
    """A notebook of code cells with these sources."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


# ---- options ---------------------------------------------------------------------


def test_notebooks_are_chosen_by_number_in_course_order():
    available = build.all_notebooks()
    chosen = build.choose_notebooks("05 00", available)
    assert [path.name[:2] for path in chosen] == ["00", "05"]
    assert build.choose_notebooks("", available) == available


@pytest.mark.parametrize(
    ("call", "fix"),
    [
        (
            lambda: build.choose_notebooks("13", build.all_notebooks()),
            'NOTEBOOKS="00 05"',
        ),
        (lambda: build.check_options("fast", "hide"), "use MODE=quick, MODE=laptop"),
        (lambda: build.check_options("quick", "show"), "use SOLUTIONS=hide or"),
    ],
)
def test_a_bad_option_is_one_line_that_names_the_fix(call, fix):
    with pytest.raises(BookError, match=re.escape(fix)) as error:
        call()
    assert "\n" not in str(error.value)


def test_the_command_line_prints_the_error_and_exits_2(capsys):
    assert build.main(["--mode", "fast"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("make book: MODE='fast' is not a mode") and err.count("\n") == 1
    )


# ---- preparing a notebook --------------------------------------------------------


def test_hidden_solutions_sit_behind_a_click():
    notebook = _notebook("import math", SOLVED)
    assert treat_solutions(notebook, "hide") == 1
    cell = notebook.cells[1]
    assert cell.source == SOLVED and cell.metadata.tags == ["hide-input"]
    assert cell.metadata.mystnb == {
        "code_prompt_show": SHOW_PROMPT,
        "code_prompt_hide": HIDE_PROMPT,
    }
    assert "tags" not in notebook.cells[0].metadata


def test_removed_solutions_show_the_students_stub():
    notebook = _notebook(SOLVED)
    treat_solutions(notebook, "remove")
    assert notebook.cells[0].source == clear_solutions(SOLVED)
    assert STUB in notebook.cells[0].source and "x / 2" not in notebook.cells[0].source


def test_links_to_notebooks_left_out_become_plain_text():
    text = "See [notebook 05](05_dcgan.ipynb#setup) and [00](00_start_here.ipynb)."
    assert unlink_absent(text, ["00_start_here"]) == (
        "See notebook 05 and [00](00_start_here.ipynb)."
    )


def test_an_error_output_is_never_published():
    notebook = _notebook("x = 1", "1 / 0")
    notebook.cells[1].outputs = [
        nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[]
        )
    ]
    with pytest.raises(BookError, match="cell 2 has an error output"):
        prepare(notebook, "hide", names=[])


@pytest.fixture(scope="module")
def executed_widgets(tmp_path_factory):
    """A notebook run by nbclient: live controls with a picture, and a progress bar."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("widgets")
    Image.new("RGB", (8, 8), "red").save(folder / "figure.png")
    path = folder / "widgets.ipynb"
    nbformat.write(_notebook(*WIDGET_CELLS), path)
    return build.execute(path, "quick"), (folder / "figure.png").read_bytes()


WIDGET_CELLS = [
    "import ipywidgets as w\nfrom IPython.display import display",
    "display(w.VBox([w.IntSlider(description='steps'),\n"
    "    w.Image(value=open('figure.png', 'rb').read()),\n"
    "    w.HTML('<b>step 40</b> modes 8/8')]))\n"
    "print('trained')",
    "display(w.HBox([w.HTML('dcgan: 100%'), w.FloatProgress(value=40, max=40),\n"
    "    w.HTML('40/40 [00:02&lt;00:00]')]))",
]


def test_live_controls_become_their_last_figure_with_a_note(executed_widgets):
    notebook, png = executed_widgets
    assert replace_widgets(notebook) == 1
    note, controls, bar = notebook.cells[1:4]
    assert note.cell_type == "markdown" and "live controls" in note.source
    assert "here is its last figure and its last readout." in note.source
    kinds = [sorted(output.get("data", {"stream": 0})) for output in controls.outputs]
    assert kinds == [["image/png"], ["text/html"], ["stream"]]  # display, then print
    assert controls.outputs[0].data["image/png"] == base64.b64encode(png).decode()
    assert "step 40" in controls.outputs[1].data["text/html"]
    assert controls.outputs[2].text == "trained\n"
    assert bar.outputs[0].text == "dcgan: 100% |##########| 40/40 [00:02<00:00]\n"
    assert "widgets" not in notebook.metadata  # no widget manager on the page
    text = json.dumps(notebook)
    assert "widget-view" not in text and "widget-state" not in text


def test_a_cell_that_raises_stops_the_build_and_is_named(tmp_path):
    path = tmp_path / "broken.ipynb"
    nbformat.write(_notebook("x = 1", "1 / 0", "print('never')"), path)
    with pytest.raises(BookError, match=r"broken.ipynb, cell 2: ZeroDivisionError"):
        build.execute(path, "quick")


def test_the_front_page_is_the_readmes_course_map():
    readme = (ROOT / "README.md").read_text()
    page = build.front_page(readme, ["00_start_here"], "quick", "hide")
    assert "| [00_start_here](00_start_here.ipynb) |" in page
    assert "| 05_dcgan |" in page  # not in this book: not linked
    assert "](notebooks/" not in page and "(reports.md#report-001)" in page
    assert "quick mode" in page and SHOW_PROMPT in page
    with pytest.raises(BookError, match="Course map"):
        build.front_page("# no map here\n", [], "quick", "hide")


# ---- the offline check, on hand-made pages -----------------------------------------

needs_chromium = pytest.mark.skipif(
    not HAS_BROWSER,
    reason="no Chromium or playwright: `make test` installs Debian's chromium "
    "package as root and playwright with the test extra",
)

GOOD_BODY = r"""
<p>The loss <span class="math notranslate nohighlight">\(\log D(x)\)</span> here.</p>
<div class="math notranslate nohighlight">\[\min_G \max_D V(D, G)\]</div>
<img src="figure.png" alt="a figure">
<div class="cell_output"><div class="output stream"><pre>step 40</pre></div></div>
<div class="output stderr"><pre>UserWarning: slow</pre></div>
<a href="index.html#top">top</a>
"""


def _page(body: str, mathjax: str | None = None) -> str:
    """An HTML page that loads the book's MathJax with the book's settings."""
    from book.offline_site import MATHJAX_PATH

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    settings = json.dumps(config["sphinx"]["config"]["mathjax2_config"])
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<script type="text/x-mathjax-config">MathJax.Hub.Config({settings})</script>
<script async src="_static/{mathjax or MATHJAX_PATH}"></script></head>
<body id="top"><section class="tex2jax_ignore mathjax_ignore">{body}</section>
</body></html>"""


@pytest.fixture
def site(tmp_path):
    """A one-page site with the book's MathJax; site(body) writes its page."""
    from PIL import Image

    from book.offline_site import mathjax_source

    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "mathjax").symlink_to(mathjax_source())
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "figure.png")

    def write(body: str = GOOD_BODY, mathjax: str | None = None) -> Path:
        (tmp_path / "index.html").write_text(_page(body, mathjax))
        return tmp_path

    return write


@needs_chromium
def test_a_good_page_passes_the_check(site):
    assert check.check_site(site()).pages == ["index.html"]


@needs_chromium
@pytest.mark.parametrize(
    ("body", "mathjax", "problem"),
    [
        ("<p>where $x$ is an image</p>", None, "raw maths in the text: 'where $x$"),
        (  # a formula split by the markdown: a line of it began with "+ " (a list)
            r"<p>Minimising $-f(\text{real})</p><ul><li>f(\text{fake})$ up</li></ul>",
            None,
            r"raw maths in the text: 'Minimising $-f(\\text{real})'",
        ),
        ("<p>as targets, real score -1$ and fake 1</p>", None, "score -1$"),
        (GOOD_BODY, "mathjax/Missing.js", "MathJax did not load"),
        (GOOD_BODY + '<img src="missing.png">', None, "image not loaded: missing.png"),
        (
            '<div class="output traceback"><pre>ZeroDivisionError</pre></div>',
            None,
            "error output in a cell: 'ZeroDivisionError'",
        ),
        (
            '<div class="output stderr"><pre>ValueError: bad</pre></div>',
            None,
            "error output in a cell: 'ValueError: bad'",
        ),
        (
            '<script src="https://cdn.example.com/lib.js"></script>',
            None,
            "a request outside the machine: https://cdn.example.com/lib.js",
        ),
        ('<a href="missing.html">next</a>', None, "link to a missing file"),
        ('<script src="gone.js"></script>', None, "a file the page loads is missing"),
    ],
    ids=[
        "dollars",
        "split-formula",
        "lone-dollar",
        "mathjax-path",
        "image",
        "traceback",
        "stderr",
        "internet",
        "link",
        "script",
    ],
)
def test_the_check_catches_a_broken_page(site, body, mathjax, problem):
    with pytest.raises(check.SiteCheckError, match=re.escape(problem)):
        check.check_site(site(body, mathjax))


# ---- a small book, built as `make book` builds the whole one ---------------------


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    """Notebooks 00 and 01 in quick mode, built into a temporary folder."""
    if not HAS_BOOK:
        pytest.skip(
            "no jupyter-book: install the book extra (pip install -e '.[book]')"
        )
    out = tmp_path_factory.mktemp("book")
    command = [sys.executable, "-m", "book.build", "--mode", "quick"]
    command += ["--notebooks", "00 01", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return out / "html"


@needs_chromium
def test_the_small_book_passes_the_offline_check(small_book, tmp_path):
    report = check.check_site(small_book, screens=tmp_path)
    assert {"index.html", "00_start_here.html", "reports.html"} <= set(report.pages)
    assert "01_backprop_and_activations.html" in report.pages
    assert (tmp_path / "front_page.png").stat().st_size > 10_000
    assert (tmp_path / "00_start_here.png").stat().st_size > 10_000


def test_the_small_book_hides_solutions_and_links_its_pages(small_book):
    page = (small_book / "00_start_here.html").read_text()
    hidden = re.findall(r"<details.*?</details>", page, flags=re.DOTALL)
    assert SHOW_PROMPT in page and any("127.5" in block for block in hidden)
    front = (small_book / "index.html").read_text()
    assert 'href="00_start_here.html"' in front and 'href="reports.html' in front


@needs_chromium
def test_a_built_page_with_a_broken_mathjax_path_fails(small_book, tmp_path):
    broken = tmp_path / "html"
    shutil.copytree(small_book, broken)
    page = broken / "00_start_here.html"
    page.write_text(page.read_text().replace("mathjax/MathJax.js", "mathjax/gone.js"))
    with pytest.raises(check.SiteCheckError, match="00_start_here.html: raw maths"):
        check.check_site(broken)
