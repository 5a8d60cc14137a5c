"""Open every page of a built book in headless Chromium, offline, and check it.

    python -m book.check [SITE] [--screens FOLDER]

Each page is opened from the disk (file://), as a reader without a network would,
with the browser offline: any request for something outside the machine is
blocked and reported. On every page the check waits for MathJax, then asserts:

- no raw maths: no `$x$`, `$$`, `\\(` or `\\[` left in the text, every maths
  element typeset, no TeX error;
- every image loaded (naturalWidth > 0);
- no error output in a cell (a traceback, or an error on stderr);
- no request left the machine, no script or style sheet is missing, no script
  failed;
- every link inside the site leads to a page (and an anchor) that exists.

Chromium is Debian's (`make browser` installs it), driven through playwright.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MATHJAX_WAIT_MS = 60_000

WAIT_FOR_MATHJAX = """
(limit) => new Promise((resolve) => {
  if (!document.querySelector('.math')) return resolve('no maths');
  if (!(window.MathJax && MathJax.Hub)) return resolve('MathJax did not load');
  const timer = setTimeout(() => resolve('MathJax still busy'), limit);
  MathJax.Hub.Register.StartupHook('End', () => {
    MathJax.Hub.Queue(() => { clearTimeout(timer); resolve('typeset'); });
  });
})
"""

LOAD_IMAGES = """
() => Promise.all(Array.from(document.images, (img) => {
  img.loading = 'eager';
  return img.decode().catch(() => null);
}))
"""

# What a page shows, read by the browser once its scripts are done.
PAGE_REPORT = r"""
() => {
  const report = {rawMaths: [], untypeset: 0, texErrors: 0, mathErrors: 0,
                  brokenImages: [], errorOutputs: [], ids: [], links: []};
  const code = 'pre, code, script, style, textarea, .MathJax_Preview';
  // a pair of dollars, a lone dollar against maths ("-1$ "), TeX's delimiters, or a
  // TeX command: what is left when the markdown split a formula apart
  const raw = new RegExp([
    String.raw`\$\$`, String.raw`\$[^\s$][^$\n]*\$`,
    String.raw`[^\s$]\$(?=[\s).,;:!?"]|$)`,
    String.raw`\\\(`, String.raw`\\\[`,
    String.raw`\\(text|math[a-z]+|frac|sum|log|cdot|sigma|nabla|operatorname)\b`,
    'Math Processing Error'].join('|'));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const found = node.textContent.match(raw);
    if (found && !node.parentElement.closest(code)) {
      const at = Math.max(found.index - 30, 0);
      report.rawMaths.push(node.textContent.slice(at, found.index + 50).trim());
    }
  }
  const typeset = '.MathJax, .MathJax_Display, .MathJax_SVG, mjx-container';
  report.untypeset = Array.from(document.querySelectorAll('.math.notranslate'))
    .filter((el) => !el.querySelector(typeset)).length;
  report.mathErrors = document.querySelectorAll('.MathJax_Error, .merror').length;
  if (window.MathJax && MathJax.Hub && MathJax.Hub.getAllJax) {
    report.texErrors = MathJax.Hub.getAllJax()
      .filter((jax) => jax.texError || (jax.root && jax.root.texError)).length;
  }
  for (const img of document.images) {
    if (!(img.complete && img.naturalWidth > 0)) {
      report.brokenImages.push((img.getAttribute('src') || '(no src)').slice(0, 80));
    }
  }
  const errors = '.output.traceback, .output.error, .output_error, ' +
    '[data-mime-type="application/vnd.jupyter.error"]';
  const stderr = '.output.stderr, .output_stderr, ' +
    '[data-mime-type="application/vnd.jupyter.stderr"]';
  const failing = /Traceback \(most recent call last\)|^\s*\w*(Error|Exception)\b/m;
  for (const el of document.querySelectorAll(errors)) {
    report.errorOutputs.push(el.textContent.trim().slice(0, 120));
  }
  for (const el of document.querySelectorAll(stderr)) {
    if (failing.test(el.textContent)) {
      report.errorOutputs.push(el.textContent.trim().slice(0, 120));
    }
  }
  report.ids = Array.from(document.querySelectorAll('[id]'), (el) => el.id)
    .concat(Array.from(document.querySelectorAll('a[name]'), (el) => el.name));
  report.links = Array.from(document.querySelectorAll('a[href]'), (a) => a.href)
    .filter((href) => href.startsWith('file:'));
  return report;
}
"""


@dataclass
class SiteReport:
    """What the check found: the pages it opened and every problem, one a line."""

    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class SiteCheckError(AssertionError):
    """The built site failed the check; the message lists each problem."""


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of the built site (not the theme's own fragments)."""
    pages = [
        path
        for path in sorted(site.rglob("*.html"))
        if not path.relative_to(site).parts[0].startswith("_")
    ]
    if not pages:
        raise SiteCheckError(
            f"no HTML pages in {site}: build the book first (make book)"
        )
    return pages


def is_local(url: str) -> bool:
    """True for a URL that stays on this machine."""
    if url.startswith(LOCAL_SCHEMES):
        return True
    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    return host.split(":")[0] in LOCAL_HOSTS or host.startswith("[::1]")


def page_problems(name: str, report: dict, mathjax: str) -> list[str]:
    """The problems of one page, from the browser's report on it."""
    problems = []
    if mathjax not in ("typeset", "no maths"):
        problems.append(f"{name}: {mathjax}")
    for text in report["rawMaths"]:
        problems.append(f"{name}: raw maths in the text: {text!r}")
    if report["untypeset"]:
        problems.append(f"{name}: {report['untypeset']} maths elements not typeset")
    if report["texErrors"] or report["mathErrors"]:
        count = max(report["texErrors"], report["mathErrors"])
        problems.append(f"{name}: {count} maths with an error")
    for src in report["brokenImages"]:
        problems.append(f"{name}: image not loaded: {src}")
    for text in report["errorOutputs"]:
        problems.append(f"{name}: error output in a cell: {text!r}")
    return problems


def link_problems(anchors: dict[Path, set[str]], links) -> list[str]:
    """Links to a file that is missing, or to an anchor its page lacks."""
    problems = []
    for page, url in links:
        parts = urlsplit(url)
        target = Path(unquote(parts.path))
        if not target.exists():
            problems.append(f"{page}: link to a missing file: {url}")
        elif parts.fragment and target in anchors:
            if unquote(parts.fragment) not in anchors[target]:
                problems.append(f"{page}: link to a missing anchor: {url}")
    return problems


SCROLL_TO_FIGURE = """
() => {
  const top = (el) => el.getBoundingClientRect().top + window.scrollY;
  const maths = Array.from(document.querySelectorAll('.math.notranslate'), top);
  const figures = Array.from(document.querySelectorAll('.cell_output img'));
  for (const img of figures) {
    const near = maths.filter((y) => y < top(img) && y > top(img) - 450);
    if (near.length && img.height < 600) {
      window.scrollTo(0, Math.min(...near) - 80);
      return;
    }
  }
  if (figures.length) figures[0].scrollIntoView({block: 'center'});
}
"""


def _screenshot(page, path: Path) -> None:
    """The viewport at the first figure with maths just above it (or the top)."""
    page.evaluate(SCROLL_TO_FIGURE)
    page.screenshot(path=str(path))


def screenshot_plan(site: Path, screens: Path | None) -> dict[Path, Path]:
    """Which pages to photograph: the front page and notebook 05 (or the first)."""
    if screens is None:
        return {}
    notebooks = [path for path in site_pages(site) if path.name[:2].isdigit()]
    chosen = [path for path in notebooks if path.name.startswith("05")] or notebooks
    plan = {site / "index.html": screens / "front_page.png"}
    if chosen:
        plan[chosen[0]] = screens / f"{chosen[0].stem}.png"
    screens.mkdir(parents=True, exist_ok=True)
    return plan


class OfflineBrowser:
    """Headless Chromium, offline: requests outside the machine are refused, noted."""

    def __init__(self, playwright):
        self.requests: list[str] = []
        self.missing: list[str] = []
        self.script_errors: list[str] = []
        self.browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS
        )
        context = self.browser.new_context(
            offline=True, viewport={"width": 1280, "height": 900}
        )
        context.route("**/*", self._block)
        context.on("request", self._note)
        self.page = context.new_page()
        self.page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        self.page.on("requestfailed", self._missing)

    def _note(self, request) -> None:
        """Remember a request for anything outside the machine."""
        if not is_local(request.url):
            self.requests.append(request.url)

    def _missing(self, request) -> None:
        """Remember a local file that failed to load (fonts: MathJax probes them)."""
        local = request.url.startswith("file:")
        if local and request.resource_type not in ("font", "image"):
            self.missing.append(request.url)

    def _block(self, route) -> None:
        """Let local files through; refuse everything else."""
        if is_local(route.request.url):
            route.continue_()
        else:
            self._note(route.request)
            route.abort("internetdisconnected")

    def visit(self, path: Path, name: str) -> tuple[dict, list[str]]:
        """Open one page; return the browser's report on it and its problems."""
        requests, errors = len(self.requests), len(self.script_errors)
        missing = len(self.missing)
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.evaluate(LOAD_IMAGES)
        mathjax = self.page.evaluate(WAIT_FOR_MATHJAX, MATHJAX_WAIT_MS)
        seen = self.page.evaluate(PAGE_REPORT)
        problems = page_problems(name, seen, mathjax)
        for url in dict.fromkeys(self.requests[requests:]):
            problems.append(f"{name}: a request outside the machine: {url}")
        for url in dict.fromkeys(self.missing[missing:]):
            problems.append(f"{name}: a file the page loads is missing: {url}")
        for error in self.script_errors[errors:]:
            problems.append(f"{name}: script error: {error}")
        return seen, problems


def check_site(site: Path, screens: Path | None = None) -> SiteReport:
    """Open every page of the site offline; raise SiteCheckError listing problems.

    With `screens`, save front_page.png and a notebook page (05 if it is there).
    """
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        raise RuntimeError("no Chromium: run `make browser` (Debian's chromium)")
    site = Path(site).resolve()
    report = SiteReport()
    anchors: dict[Path, set[str]] = {}
    links: dict[tuple[str, str], None] = {}
    shots = screenshot_plan(site, Path(screens) if screens else None)
    with sync_playwright() as playwright:
        browser = OfflineBrowser(playwright)
        try:
            for path in site_pages(site):
                name = path.relative_to(site).as_posix()
                seen, problems = browser.visit(path, name)
                report.pages.append(name)
                report.problems += problems
                anchors[path] = set(seen["ids"])
                links.update(dict.fromkeys((name, url) for url in seen["links"]))
                if path in shots:
                    _screenshot(browser.page, shots[path])
        finally:
            browser.browser.close()
    report.problems += link_problems(anchors, links)
    if report.problems:
        raise SiteCheckError(
            f"{len(report.problems)} problems in {site}:\n" + "\n".join(report.problems)
        )
    return report


def main(argv: list[str] | None = None) -> int:
    """The command line of `make book-check`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", type=Path, default=ROOT / "build/book/html")
    parser.add_argument("--screens", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        report = check_site(args.site, args.screens)
    except SiteCheckError as problems:
        print(f"book-check: {problems}", file=sys.stderr)
        return 1
    print(f"book-check: {len(report.pages)} pages passed offline: {args.site}")
    if args.screens:
        print(f"book-check: screenshots in {args.screens}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
