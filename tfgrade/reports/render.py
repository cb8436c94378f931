"""`tfgrade report OUT`: (re)build every report and export from OUT/results/*.json.

Layout written under OUT:
    index.html                      class report (with the leaderboard when OUT/leaderboard.json exists)
    leaderboard.html                the students' leaderboard: pseudonyms only, safe to publish
    reports/<student>.html          one per student (formatting.report_filename)
    gradebook.csv [gradebook.xlsx]  gradebook (xlsx only when openpyxl is importable)
    lms/moodle.csv, lms/canvas.csv  LMS grade imports, with *_unmatched.csv beside them
    moodle/grading_worksheet.csv    with `worksheet`: Moodle's grading worksheet filled in, and
    moodle/feedback_files.zip       the reports as Moodle feedback files (moodle_worksheet.py,
                                    moodle_feedback.py), with *_unmatched.csv beside them
    similarity/<ex>/<pair>.html     side-by-side pages, only when OUT/similarity.json exists

A roster for the LMS files is taken from the `roster` argument or, when absent, from
OUT/roster.csv if it exists (columns documented in lms.py). Results that cannot be read are
reported and skipped; the others are still rendered.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tfgrade.catalogue import GRADER
from tfgrade.engine.results import SubmissionResult, as_grader_error
from tfgrade.i18n import Lang, Msg
from tfgrade.policy.apply import Policy
from tfgrade.policy.audit import LOG_NAME, record
from tfgrade.reports.class_report import write_class_report
from tfgrade.reports.gradebook import write_gradebook
from tfgrade.reports.leaderboard import Board
from tfgrade.reports.lms import read_roster, write_canvas_csv, write_moodle_csv
from tfgrade.reports.moodle_feedback import MoodleExport, write_moodle_exports
from tfgrade.reports.moodle_worksheet import Worksheet, read_worksheet
from tfgrade.reports.scoring import exercise_ids as ids_of
from tfgrade.reports.scoring import reference_max
from tfgrade.reports.student_report import write_student_report
from tfgrade.reports.templating import template_env


@dataclass
class RenderSummary:
    reports: list[Path] = field(default_factory=list)
    index: Path | None = None
    exports: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)   # (file, why)
    unmatched: list[str] = field(default_factory=list)                 # LMS: students not in the roster
    failed: list[str] = field(default_factory=list)                    # reports that became grader_error rows
    adjustments: int = 0                                               # instructor overrides applied
    warnings: list[Msg] = field(default_factory=list)                  # the policies' names that matched no one
    moodle: MoodleExport | None = None                                 # with a Moodle grading worksheet


def load_results(results_dir: Path) -> tuple[list[SubmissionResult], list[tuple[Path, str]]]:
    """Every OUT/results/*.json that parses as a SubmissionResult, and the ones that do not."""
    results, bad = [], []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            results.append(SubmissionResult.load(path))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # JSON errors are ValueErrors
            bad.append((path, f"{type(exc).__name__}: {exc}"))
    return results, bad


def render_all(out_dir: Path, lang: Lang = "es", reveal_hidden: bool = False, *,
               roster: Path | None = None, max_points: Mapping[str, float] | None = None,
               results: Sequence[SubmissionResult] | None = None,
               exercise_ids: Sequence[str] | None = None, policy: Policy | None = None,
               worksheet: Path | Worksheet | None = None, folders: Mapping[str, str] | None = None) -> RenderSummary:
    """Load OUT/results/*.json (unless `results` is given) and write every report and export.

    `exercise_ids` (the course's order) and `max_points` (each exercise's maximum from the pack)
    are optional: by default both come from the results themselves (scoring.py). `policy` (the
    instructor's overrides and late policy) is applied here, on top of the stored automatic
    results, which stay as they are; every adjustment applied goes to the audit log.
    `worksheet`: Moodle's downloaded grading worksheet (its path, or as read already), filled in
    under OUT/moodle/ with the feedback-files zip; a file that is not a worksheet is refused
    before anything is written. `folders` (key -> download folder name) defaults to
    OUT/moodle/folders.json.
    """
    out_dir = Path(out_dir)
    if worksheet is not None and not isinstance(worksheet, Worksheet):
        worksheet = read_worksheet(worksheet)
    summary = RenderSummary()
    if results is None:
        loaded, summary.unreadable = load_results(out_dir / "results")
        results = loaded
    env = template_env()
    ref = reference_max(results, max_points)
    if policy is not None:
        outcome = policy.apply(results, ref)        # OverrideError: nothing is written
        results = outcome.results
        summary.warnings += outcome.warnings
        if policy.overrides is not None or (out_dir / LOG_NAME).is_file():
            summary.adjustments = len(outcome.applied)
            record(out_dir, policy.overrides, outcome.applied)
    rendered = []
    for result in results:
        try:
            summary.reports.append(write_student_report(result, out_dir, lang, reveal_hidden, env, ref))
        except OSError:
            raise                      # a full disk is the run's problem: the CLI says so
        except Exception:  # noqa: BLE001 - one student's report must not cost the class its reports
            result = as_grader_error(result, "the report could not be rendered:\n" + traceback.format_exc())
            summary.reports.append(write_student_report(result, out_dir, lang, reveal_hidden, env, ref))
            summary.failed.append(result.display_name)
        rendered.append(result)
    results = rendered
    from tfgrade.similarity.pages import load_report, write_pair_pages

    similarity = load_report(out_dir / "similarity.json")      # written by `tfgrade grade`, if at all
    if similarity is not None:
        write_pair_pages(similarity, out_dir, lang, env)
    board = Board.read(out_dir)           # OUT/leaderboard.json, written by `tfgrade grade`
    if board is not None and policy is not None and policy.deadline is not None:
        board = replace(board, due=policy.deadline.due)     # the course file's deadline as it is now
    summary.index = write_class_report(results, out_dir, lang, env, ref,
                                       board.view(results, lang, instructor=True) if board else None, similarity)
    if board is not None:
        summary.exports.append(board.write_page(results, out_dir, lang, env))
    ids = list(exercise_ids) if exercise_ids is not None else ids_of(results)
    summary.exports += write_gradebook(results, ids, out_dir, max_points=ref)
    roster_path = roster if roster is not None else (out_dir / "roster.csv")
    roster_rows = read_roster(roster_path) if roster_path.is_file() else None
    for writer in (write_moodle_csv, write_canvas_csv):
        export = writer(results, out_dir / "lms", roster=roster_rows, max_points=ref)
        summary.exports += [export.path, export.unmatched_path]
        summary.unmatched += [u.student for u in export.unmatched
                              if u.reason in ("not_in_roster", "ambiguous") and u.student not in summary.unmatched]
    if worksheet is not None:
        summary.moodle = write_moodle_exports(results, out_dir, worksheet, folders=folders, max_points=ref, ids=ids)
        summary.exports += summary.moodle.paths
    return summary


def main_report(out_dir: Path, lang: Lang = "es", reveal_hidden: bool = False, policy: Policy | None = None,
                worksheet: Path | Worksheet | None = None) -> int:
    """Back end of `tfgrade report OUT`. 0: all written; 1: some results unreadable; 2: nothing to do."""
    out_dir = Path(out_dir)
    results_dir = out_dir / "results"
    if not results_dir.is_dir():
        print(Msg(f"no existe {results_dir}: ¿corregiste antes con `tfgrade grade`?",
                  f"{results_dir} does not exist: did you run `tfgrade grade` first?").get(lang), file=sys.stderr)
        return 2
    summary = render_all(out_dir, lang, reveal_hidden, policy=policy, worksheet=worksheet)
    for path, why in summary.unreadable:
        print(Msg(f"resultado ilegible, omitido: {path.name} ({why})",
                  f"unreadable result, skipped: {path.name} ({why})").get(lang), file=sys.stderr)
    if not summary.reports and summary.unreadable:
        return 2
    n = len(summary.reports)
    print(Msg(f"{n} informes en {out_dir / 'reports'}; informe de la clase: {summary.index}",
              f"{n} reports in {out_dir / 'reports'}; class report: {summary.index}").get(lang))
    print(Msg("exportaciones: ", "exports: ").get(lang) + ", ".join(str(p.relative_to(out_dir)) for p in summary.exports))
    if summary.unmatched:
        print(Msg(f"{len(summary.unmatched)} estudiantes no están en la lista de clase (ver lms/*_unmatched.csv)",
                  f"{len(summary.unmatched)} students are not in the roster (see lms/*_unmatched.csv)").get(lang))
    say_extras(summary, out_dir, lang)
    return 1 if summary.unreadable else 0


def say_extras(summary: RenderSummary, out_dir: Path, lang: Lang) -> None:
    """What `grade` and `report` both say after rendering: the Moodle files, the adjustments
    applied, and the policies' names that matched no student (stderr: they need a look)."""
    if summary.moodle is not None:
        say_moodle(summary.moodle, out_dir, lang)
    if summary.adjustments:
        print(GRADER("policy_adjustments_applied", n=summary.adjustments, log=LOG_NAME).get(lang))
    for warning in summary.warnings:
        print(warning.get(lang), file=sys.stderr)


def say_moodle(export: MoodleExport, out_dir: Path, lang: Lang) -> None:
    print(GRADER("moodle_written", filled=export.filled, rows=export.rows, reports=export.reports,
                 worksheet=export.worksheet.relative_to(out_dir), zip=export.zip.relative_to(out_dir)).get(lang))
    if export.unmatched:
        print(GRADER("moodle_unmatched_count", n=len(export.unmatched),
                     path=", ".join(str(p.relative_to(out_dir)) for p in export.unmatched_paths)).get(lang))
