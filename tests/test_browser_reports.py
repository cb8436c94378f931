"""The reports in a real browser (headless Chromium driven by Playwright).

Checks what only a browser can tell: no console errors (a wrong CSP hash would show up here),
<details> open on click, plots have a size, nothing is cut at a phone's 375 px width, no
student text runs as script. Screenshots land in test-artifacts/ for a human to look at.
Needs Debian's chromium (/usr/bin/chromium) and the playwright package; never downloads a browser.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import XSS, class_results, failing_student, self_check_student

from tfgrade.reports import render_all
from tfgrade.reports.formatting import report_filename

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("TFGRADE_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (.venv/bin/pip install playwright); browser checks skipped")
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); browser checks skipped")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out")
    for r in [*class_results(), self_check_student()]:
        r.save(out / "results" / (report_filename(r.file_label)[:-5] + ".json"))
    render_all(out, "es", reveal_hidden=True)
    ARTIFACTS.mkdir(exist_ok=True)
    return out


class Page:
    """A page with everything that went wrong in it collected."""

    def __init__(self, browser: Any, path: Path, width: int) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")

    def open_all_details(self) -> None:
        self.page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")

    def overflow(self) -> tuple[int, int]:
        return tuple(self.page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]"))

    def plots(self) -> list[dict[str, float]]:
        return self.page.evaluate("""() => [...document.querySelectorAll('img.plot')].map(i => {
            const r = i.getBoundingClientRect();
            return {w: r.width, h: r.height, natural: i.naturalWidth, complete: i.complete};
        })""")

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_student_report(browser: Any, site: Path, width: int) -> None:
    view = Page(browser, site / "reports" / report_filename(failing_student().file_label), width)
    try:
        details = view.page.locator("li.check details").first
        assert details.get_attribute("open") is None
        details.locator("summary").click()
        assert details.get_attribute("open") is not None               # expands on click
        view.open_all_details()
        plots = view.plots()
        assert len(plots) >= 4
        for p in plots:
            assert p["complete"] and p["natural"] > 0 and p["w"] > 50 and p["h"] > 50, p
        scroll_width, inner_width = view.overflow()
        assert scroll_width <= inner_width, "the page is wider than the screen"
        assert view.shot(f"student_report_{width}.png").stat().st_size > 10_000
        assert view.errors == [] and view.dialogs == []
    finally:
        view.close()


def test_expand_all_button_runs_under_the_csp(browser: Any, site: Path) -> None:
    view = Page(browser, site / "reports" / report_filename(failing_student().file_label), 1280)
    try:
        button = view.page.locator("#toggle-all")
        assert button.is_visible()                                      # our hashed script ran
        button.click()
        assert view.page.evaluate("() => [...document.querySelectorAll('details')].every(d => d.open)")
        assert button.inner_text() == "Plegar todo"
        view.page.emulate_media(media="print")
        assert view.page.evaluate("() => getComputedStyle(document.querySelector('#toggle-all')).display") == "none"
        assert view.errors == []
    finally:
        view.close()


def test_adversarial_report_runs_no_student_script(browser: Any, site: Path) -> None:
    view = Page(browser, site / "reports" / report_filename(XSS), 375)
    try:
        view.open_all_details()
        view.page.wait_for_timeout(200)
        assert view.dialogs == []                                       # no alert() ever fired
        assert view.page.evaluate("() => document.scripts.length") == 1
        assert view.page.locator("h1.student-name").inner_text() == XSS  # shown as text
        assert view.page.locator("pre.student-output").inner_text().startswith("</pre><script>alert(3)")
        scroll_width, inner_width = view.overflow()
        assert scroll_width <= inner_width
        view.shot("student_report_adversarial_375.png")
        assert view.errors == []
    finally:
        view.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_class_report(browser: Any, site: Path, width: int) -> None:
    view = Page(browser, site / "index.html", width)
    try:
        plots = view.plots()
        assert len(plots) == 1 and plots[0]["natural"] > 0 and plots[0]["w"] > 200 and plots[0]["h"] > 60
        assert view.page.locator("table.students tbody tr").count() == len(class_results()) + 1
        view.open_all_details()
        scroll_width, inner_width = view.overflow()
        assert scroll_width <= inner_width
        view.shot(f"class_report_{width}.png")
        # the link to a student's report opens that report
        view.page.locator("table.students a", has_text="bruno_díaz").click()
        view.page.wait_for_load_state("load")
        assert view.page.locator("h1.student-name").inner_text() == "bruno_díaz"
        assert view.errors == []
    finally:
        view.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_late_and_adjusted_report_fits_the_screen(browser: Any, tmp_path: Path, width: int) -> None:
    """The deadline card, the penalty line and an instructor's note on a check, on a phone too."""
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from tfgrade.policy.apply import Policy
    from tfgrade.policy.deadline import DeadlinePolicy
    from tfgrade.policy.overrides import Overrides
    from tfgrade.policy.submission_times import SubmissionTimes

    student = replace(failing_student(), student_id="222")
    ex = next(e for e in student.exercises if e.checks)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student,exercise,check,points,delta,reason,by,when\n"
                         f"222,{ex.exercise},{ex.checks[0].id},,0.5,"
                         f"a long reason {'that goes on ' * 12}and ends,mg,\n", encoding="utf-8")
    cet = timezone(timedelta(hours=1))
    policy = Policy(deadline=DeadlinePolicy.from_table({"due": "2026-11-30T23:59:00+01:00", "penalty_per_day": 0.1}),
                    overrides=Overrides.read(overrides),
                    times=SubmissionTimes().with_source("file_time", {"222": datetime(2026, 12, 3, 9, tzinfo=cet)}))
    render_all(tmp_path / "out", "es", results=[student], policy=policy)
    view = Page(browser, tmp_path / "out" / "reports" / report_filename(student.file_label), width)
    try:
        assert view.page.locator("#deadline").is_visible()
        assert view.page.locator("p.adjusted-note").count() == 1
        scroll_width, inner_width = view.overflow()
        assert scroll_width <= inner_width, "the page is wider than the screen"
        assert view.shot(f"student_report_late_{width}.png").stat().st_size > 10_000
        assert view.errors == [] and view.dialogs == []
    finally:
        view.close()
