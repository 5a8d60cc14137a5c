"""The reports page: every report the course cites has a section there, and is linked.

The course cites five student reports as "report 000" to "report 004"; students
read them on notebooks/reports.md, one section per report behind an explicit
`<a id="report-NNN"></a>` anchor. The checkers below take a folder or a text, so
that the tests at the end can prove on small made-up files that they catch a
citation without a section, a missing link and a broken page.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = "notebooks/reports.md"
REPORTS = ("000", "001", "002", "003", "004")
PARTS = (  # the headings every report's section has, in this order
    "### Goal",
    "### Setup",
    "### What it reported",
    "### What it got wrong or left unmeasured",
    "### Where the course revisits it",
)

_NUM = r"\d{3}(?!\d)"
_ASIDE = r"(?:\s*\([^()]*\))?"  # "reports 001 (CGAN on MNIST) and 003"
_SEP = r"\s*(?:,\s*and\b|,|\band\b|\bor\b|\bto\b|&|-|–|—)\s*"
_CITATION = re.compile(
    rf"\breports?\s+({_NUM}{_ASIDE}(?:{_SEP}{_NUM}{_ASIDE})*)", re.IGNORECASE
)
_RANGE = re.compile(rf"({_NUM}){_ASIDE}\s*(?:\bto\b|-|–|—)\s*({_NUM})")
_PART = r"\d+(?:\.\d+)*[a-z]?"
_DETAIL = re.compile(  # "report 001's figure 5", "report 001, figures 7 to 9", "§6.2"
    rf"\breport\s+({_NUM})(?:'s|’s|,)?\s*(?:(figures?)\s+|(§)\s*)"
    rf"({_PART})(?:\s*(?:\bto\b|\band\b|-|–)\s*({_PART}))?",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ANCHOR = re.compile(r'<a id="(report-\d{3})"></a>')


def plain(text: str) -> str:
    """Markdown links replaced by their text: '[report 001](x)' reads 'report 001'."""
    return _MD_LINK.sub(r"\1", text)


def cited(text: str) -> list[tuple[str, set[str]]]:
    """Each report citation in text and the report numbers it names.

    'reports 000-003' and 'reports 000 to 003' name 000, 001, 002 and 003.
    """
    found = []
    for match in _CITATION.finditer(plain(text)):
        group = match.group(1)
        numbers = set(re.findall(_NUM, re.sub(r"\([^()]*\)", "", group)))
        for low, high in _RANGE.findall(group):
            numbers |= {f"{n:03d}" for n in range(int(low), int(high) + 1)}
        found.append((match.group(0), numbers))
    return found


def written(text: str) -> set[str]:
    """The report numbers a text's citations write out (not those a range implies)."""
    return {
        number
        for citation, _ in cited(text)
        for number in re.findall(_NUM, re.sub(r"\([^()]*\)", "", citation))
    }


def details(text: str) -> list[tuple[str, str, str]]:
    """(citation, report, 'figure X' or '§X') for each figure or section cited."""
    found = []
    for match in _DETAIL.finditer(plain(text)):
        number, figure, section, first, last = match.groups()
        parts = [first]
        if last and first.isdigit() and last.isdigit():
            parts = [str(n) for n in range(int(first), int(last) + 1)]
        elif last:
            parts.append(last)
        kind = "figure " if figure else "§"
        found += [(match.group(0), number, kind + part) for part in parts]
    return found


def sections(page: str) -> dict[str, str]:
    """The page's sections by report number: from each anchor to the next one."""
    marks = list(_ANCHOR.finditer(page))
    ends = [m.start() for m in marks[1:]] + [len(page)] * bool(marks)
    return {
        m.group(1)[-3:]: page[m.start() : end]
        for m, end in zip(marks, ends, strict=True)
    }


def describes(section: str, detail: str) -> bool:
    """Whether a section names a figure ('figure 4c') or a section ('§6.2')."""
    if detail.startswith("§"):
        pattern = re.escape(detail)
    else:
        pattern = r"\bfigures?\s+" + re.escape(detail.split()[1])
    return re.search(pattern + r"(?!\w|\.\d)", section, re.IGNORECASE) is not None


def page_problems(page: str) -> list[str]:
    """What is wrong with the page's anchors, headings and parts."""
    problems = []
    anchors = _ANCHOR.findall(page)
    for anchor in sorted(set(anchors)):
        if anchors.count(anchor) > 1:
            problems.append(f"{PAGE}: anchor {anchor} appears {anchors.count(anchor)}x")
    for number in REPORTS:
        if f"report-{number}" not in anchors:
            problems.append(f'{PAGE}: no <a id="report-{number}"></a> anchor')
    for line in page.splitlines():
        if _ANCHOR.search(line) and not _ANCHOR.fullmatch(line.strip()):
            problems.append(f"{PAGE}: an anchor must be a line of its own: {line!r}")
    for number, text in sections(page).items():
        lines = [line for line in text.splitlines()[1:] if line.strip()]
        heading = rf"## Report {number}: \S.*"
        if not lines or not re.fullmatch(heading, lines[0]):
            problems.append(
                f"{PAGE}: anchor report-{number} is not followed by a "
                f"heading '## Report {number}: <title>'"
            )
        at = [text.find(part + "\n") for part in PARTS]
        if -1 in at or at != sorted(at):
            missing = [p for p, i in zip(PARTS, at, strict=True) if i == -1]
            problems.append(
                f"{PAGE}: report {number} lacks the parts {missing} "
                f"or has them out of order"
            )
    return problems


def sources(root: Path):
    """(where, kind, text) for every file that may cite a report."""
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            text = "".join(cell["source"])
            yield f"notebooks/{path.name} cell {index}", cell["cell_type"], text
    files = [root / "README.md", *sorted((root / "gancourse").rglob("*.py"))]
    files.append(root / PAGE)
    for path in files:
        if path.is_file():
            where = path.relative_to(root).as_posix()
            yield where, "text", path.read_text(encoding="utf-8")


def _at(where: str, kind: str, text: str, citation: str) -> str:
    """Where a citation is: a notebook cell, or a file and line."""
    if kind != "text":
        return where
    line = plain(text)[: plain(text).find(citation)].count("\n") + 1
    return f"{where} line {line}"


def citation_problems(root: Path) -> list[str]:
    """Citations of a report, figure or section that the reports page does not hold."""
    page = root / PAGE
    held = sections(page.read_text(encoding="utf-8")) if page.is_file() else {}
    problems = []
    for where, kind, text in sources(root):
        for citation, numbers in cited(text):
            for number in sorted(numbers - held.keys()):
                problems.append(
                    f"{_at(where, kind, text, citation)}: {citation!r} "
                    f"cites report {number}, which has no section in "
                    f"{PAGE}"
                )
        for citation, number, detail in details(text):
            if number in held and not describes(held[number], detail):
                problems.append(
                    f"{_at(where, kind, text, citation)}: {citation!r} "
                    f"cites {detail} of report {number}, which its "
                    f"section in {PAGE} does not describe"
                )
    return problems


def link_problems(where: str, text: str, target: str, anchors: set[str]) -> list[str]:
    """Reports that a block of markdown mentions but never links, and dead links."""
    link = re.compile(rf"(?:\]\(\s*|href=\")(?:\./)?{re.escape(target)}#([^)\s\"]*)")
    targets = link.findall(text)
    problems = [
        f"{where}: links {target}#{anchor}, which is not an anchor on the page"
        for anchor in targets
        if anchor not in anchors
    ]
    for number in sorted(written(text)):
        if f"report-{number}" not in targets:
            problems.append(
                f"{where}: mentions report {number} without a link to "
                f"{target}#report-{number}"
            )
    return problems


def notebook_link_problems(path: Path, anchors: set[str]) -> list[str]:
    """Markdown cells of one notebook that mention a report and do not link it."""
    problems = []
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            where = f"notebooks/{path.name} cell {index}"
            problems += link_problems(
                where, "".join(cell["source"]), "reports.md", anchors
            )
    return problems


def markdown_blocks(text: str):
    """(first line number, block): paragraphs, and each table row on its own."""
    block, start = [], 1
    for number, line in enumerate(text.splitlines() + [""], start=1):
        if line.strip() and not line.lstrip().startswith("|"):
            if not block:
                start = number
            block.append(line)
            continue
        if block:
            yield start, "\n".join(block)
            block = []
        if line.lstrip().startswith("|"):
            yield number, line


def readme_link_problems(readme: str, anchors: set[str]) -> list[str]:
    """README paragraphs and table rows that mention a report and do not link it."""
    problems = []
    for line, block in markdown_blocks(readme):
        problems += link_problems(f"README.md line {line}", block, PAGE, anchors)
    return problems


def _page_anchors(root: Path = ROOT) -> set[str]:
    page = root / PAGE
    return (
        set(_ANCHOR.findall(page.read_text(encoding="utf-8")))
        if page.is_file()
        else set()
    )


# (d) the page itself


def test_the_page_has_each_report_once_with_its_parts():
    page = (ROOT / PAGE).read_text(encoding="utf-8")
    assert not page_problems(page), "\n".join(page_problems(page))
    assert list(sections(page)) == list(REPORTS), "sections out of order"


def test_the_pages_own_links_lead_somewhere():
    page = (ROOT / PAGE).read_text(encoding="utf-8")
    anchors = _page_anchors()
    dead = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page):
        path, _, anchor = target.partition("#")
        if "://" in path:
            continue
        if path and not (ROOT / "notebooks" / path).exists():
            dead.append(target)
        elif not path and anchor not in anchors:
            dead.append(target)
    assert not dead, f"{PAGE} links to missing files or anchors: {dead}"


# (a) every citation has its section


def test_every_cited_report_figure_and_section_is_on_the_page():
    problems = citation_problems(ROOT)
    assert not problems, "\n".join(problems)


# (b) notebooks link the reports they mention


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_markdown_links_each_report_it_mentions(path):
    problems = notebook_link_problems(path, _page_anchors())
    assert not problems, "\n".join(problems)


# (c) the README links the reports it mentions


def test_readme_links_each_report_it_mentions():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    problems = readme_link_problems(readme, _page_anchors())
    assert not problems, "\n".join(problems)
    assert f"]({PAGE})" in readme, "the README does not point to the reports page"


# The checkers themselves, on made-up files


def test_citations_are_read_in_every_form():
    text = (
        "Report 003's WGAN; reports 000-002; reports 000 to 001, "
        "reports 001 (CGAN on MNIST) and 004 (NumPy); "
        "[report 002](reports.md#report-002)'s slip; report 004 §6.2; "
        "reports 000 and\n003; report 001: 20 epochs"
    )
    assert [numbers for _, numbers in cited(text)] == [
        {"003"},
        {"000", "001", "002"},
        {"000", "001"},
        {"001", "004"},
        {"002"},
        {"004"},
        {"000", "003"},
        {"001"},
    ]
    assert written("reports 000–003") == {"000", "003"}
    assert [d for _, _, d in details("report 001, figures 7 to 9")] == [
        "figure 7",
        "figure 8",
        "figure 9",
    ]
    assert details("report 000's figure 4c and report 004 §6.2")[1][1:] == (
        "004",
        "§6.2",
    )
    assert describes("**Figure 11.1:** x", "figure 11.1")
    assert not describes("**Figure 11.1:** x", "figure 11")
    assert not describes("figure 14", "figure 1")


def _course(tmp_path: Path, page: str, cells: list[dict], readme: str = "") -> Path:
    """A made-up course: one notebook, a README, a package file and a page."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "gancourse").mkdir()
    (tmp_path / PAGE).write_text(page, encoding="utf-8")
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "01_x.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "README.md").write_text(readme, encoding="utf-8")
    (tmp_path / "gancourse" / "x.py").write_text("# settings of reports 000-005\n")
    return tmp_path


def _cell(kind: str, text: str) -> dict:
    return {"cell_type": kind, "metadata": {}, "source": text.splitlines(True)}


def _page(*numbers: str, figures: str = "") -> str:
    """A page with full sections for the given reports."""
    body = "\n\n".join(f"{part}\n\ntext {figures}" for part in PARTS)
    return "\n".join(
        f'<a id="report-{n}"></a>\n## Report {n}: a title\n\n{body}\n' for n in numbers
    )


def test_a_citation_without_a_section_is_caught(tmp_path):
    cells = [
        _cell(
            "markdown",
            "# Title\n\nAs [report 001](reports.md#report-001) and report 007 found.",
        ),
        _cell("code", "x = 1  # report 001's figure 9"),
    ]
    root = _course(
        tmp_path,
        _page("000", "001", figures="**Figure 8:**"),
        cells,
        readme="Intro.\n\nSee report 006 for more.\n",
    )
    problems = "\n".join(citation_problems(root))
    assert "notebooks/01_x.ipynb cell 0: 'report 007' cites report 007" in problems
    assert 'notebooks/01_x.ipynb cell 1: "report 001\'s figure 9" cites figure 9' in (
        problems
    )
    assert "README.md line 3: 'report 006' cites report 006" in problems
    assert "gancourse/x.py line 1: 'reports 000-005' cites report 002" in problems
    assert "cites report 005" in problems
    assert "cites report 001," not in problems and "'report 001'" not in problems


def test_an_empty_page_fails_every_citation(tmp_path):
    root = _course(tmp_path, "", [_cell("markdown", "Report 003 says so.")])
    assert citation_problems(root) == [
        "notebooks/01_x.ipynb cell 0: 'Report 003' cites report 003, which has no "
        f"section in {PAGE}",
        "gancourse/x.py line 1: 'reports 000-005' cites report 000, which has no "
        f"section in {PAGE}",
        *(
            f"gancourse/x.py line 1: 'reports 000-005' cites report {n}, which has "
            f"no section in {PAGE}"
            for n in ("001", "002", "003", "004", "005")
        ),
    ]
    assert len(page_problems("")) == len(REPORTS)


def test_a_broken_page_is_caught():
    good = _page(*REPORTS)
    assert page_problems(good) == []
    twice = good + '\n<a id="report-002"></a>\n## Report 002: again\n'
    assert any("report-002 appears 2x" in p for p in page_problems(twice))
    missing = _page("000", "001", "003", "004")
    assert page_problems(missing) == [f'{PAGE}: no <a id="report-002"></a> anchor']
    no_heading = good.replace("## Report 001: a title", "Report 001")
    assert any("heading '## Report 001" in p for p in page_problems(no_heading))
    no_part = good.replace("### Setup\n", "", 1)
    assert any(
        "report 000 lacks the parts ['### Setup']" in p for p in page_problems(no_part)
    )
    inline = good.replace('<a id="report-003"></a>\n', 'see <a id="report-003"></a>\n')
    assert any("a line of its own" in p for p in page_problems(inline))


def test_unlinked_mentions_and_dead_links_are_caught(tmp_path):
    cells = [
        _cell("markdown", "Report 001 and [report 002](reports.md#report-002)."),
        _cell("markdown", "As in [report 004](reports.md#report-4)."),
        _cell(
            "markdown",
            "Reports 000-003, [000](reports.md#report-000) and "
            "[003](./reports.md#report-003).",
        ),
        _cell("code", "# report 001, never linked in code: fine"),
    ]
    root = _course(tmp_path, _page(*REPORTS), cells)
    path = root / "notebooks" / "01_x.ipynb"
    assert notebook_link_problems(path, _page_anchors(root)) == [
        "notebooks/01_x.ipynb cell 0: mentions report 001 without a link to "
        "reports.md#report-001",
        "notebooks/01_x.ipynb cell 1: links reports.md#report-4, which is not an "
        "anchor on the page",
        "notebooks/01_x.ipynb cell 1: mentions report 004 without a link to "
        "reports.md#report-004",
    ]
    readme = (
        "| 09_x | [report 001](notebooks/reports.md#report-001)'s depths |\n"
        "| 10_x | report 000's Pegasus |\n\nA paragraph on report 002\n"
        "that links it [here](notebooks/reports.md#report-002) on its next line.\n\n"
        "A [wrong link](reports.md#report-003) from the README to report 003.\n"
    )
    assert readme_link_problems(readme, _page_anchors(root)) == [
        f"README.md line 2: mentions report 000 without a link to {PAGE}#report-000",
        f"README.md line 7: mentions report 003 without a link to {PAGE}#report-003",
    ]
