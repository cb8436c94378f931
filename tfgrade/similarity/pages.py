"""The similarity section of the class report and one side-by-side page per pair.

OUT/index.html gets a sortable table (templates/_similarity.html.j2, included by the class
report); each row links to OUT/similarity/<exercise>/<pair>.html (templates/similarity_pair.html.j2)
with both files and their matched regions marked. Student code and names are hostile text:
they reach the templates as plain strings (Jinja escapes them), file names are made from
`safe_file_stem`, and copydetect's own HTML (which does not escape) is never used.
Student reports never receive any of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment

from tfgrade.engine.results import safe_file_stem, write_text_atomic
from tfgrade.i18n import Lang
from tfgrade.reports.formatting import fmt_num
from tfgrade.reports.labels import labels
from tfgrade.reports.templating import page_context, template_env
from tfgrade.similarity.report import SimilarityReport, SimilarPair

PAIR_TEMPLATE = "similarity_pair.html.j2"


@dataclass(frozen=True)
class PairRow:
    exercise: str
    a: str
    b: str
    score: float                       # sort key
    score_text: str
    model_text: str                    # empty without a shared unusual model
    reasons: list[tuple[str, str]]     # (css kind, label)
    href: str


@dataclass(frozen=True)
class SkippedRow:
    exercise: str
    student: str
    file_name: str
    reason: str


@dataclass(frozen=True)
class ExerciseRow:
    exercise: str
    compared: int
    flagged: int


@dataclass(frozen=True)
class SimilarityView:
    threshold_text: str
    n_flagged: int
    exercises: list[ExerciseRow]
    rows: list[PairRow]
    skipped: list[SkippedRow]


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


@dataclass(frozen=True)
class SideView:
    display: str
    file_name: str
    share_text: str
    model: str
    segments: list[Segment]


@dataclass(frozen=True)
class PairView:
    exercise: str
    score_text: str
    reasons: list[tuple[str, str]]
    model_text: str
    left: SideView
    right: SideView


def pair_path(out_dir: Path, pair: SimilarPair) -> Path:
    return Path(out_dir) / "similarity" / safe_file_stem(pair.exercise) / f"{safe_file_stem(pair.pair_id)}.html"


def pair_href(pair: SimilarPair) -> str:
    return "similarity/" + quote(safe_file_stem(pair.exercise)) + "/" + quote(safe_file_stem(pair.pair_id)) + ".html"


def _percent(x: float, lang: Lang) -> str:
    return fmt_num(100.0 * x, lang, 0) + " %"


def _reasons(pair: SimilarPair, lang: Lang) -> list[tuple[str, str]]:
    t = labels(lang)
    if not pair.reasons:
        return [("near", t["sim_near"])]
    return [(f"sim-{r}", t.get(f"sim_reason_{r}", r)) for r in pair.reasons]


def _model_text(pair: SimilarPair, lang: Lang) -> str:
    if not pair.model_match:
        return ""
    return labels(lang)["sim_model_shared"].format(n=pair.model_holders, model=pair.a.model or pair.b.model)


def similarity_view(report: SimilarityReport, lang: Lang) -> SimilarityView:
    rows = [PairRow(p.exercise, p.a.display, p.b.display, p.code_score, _percent(p.code_score, lang),
                    _model_text(p, lang), _reasons(p, lang), pair_href(p))
            for e in report.exercises for p in e.pairs]
    skipped = [SkippedRow(s.exercise, s.student, s.file_name, s.reason.get(lang))
               for e in report.exercises for s in e.skipped]
    return SimilarityView(_percent(report.threshold, lang), report.flagged,
                          [ExerciseRow(e.exercise, e.compared, e.flagged) for e in report.exercises],
                          rows, skipped)


def segments(code: str, slices: tuple[tuple[int, int], ...]) -> list[Segment]:
    """The code cut into plain and marked runs (overlapping or unordered slices merged)."""
    spans: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(code), e)) for s, e in slices):
        if end <= start:
            continue
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    out, at = [], 0
    for start, end in spans:
        if start > at:
            out.append(Segment(code[at:start], False))
        out.append(Segment(code[start:end], True))
        at = end
    if at < len(code):
        out.append(Segment(code[at:], False))
    return out


def pair_view(pair: SimilarPair, lang: Lang) -> PairView:
    t = labels(lang)

    def side(s_display: str, file_name: str, share: float, model: str, code: str,
             slices: tuple[tuple[int, int], ...]) -> SideView:
        return SideView(s_display, file_name, t["sim_share_of"].format(pct=_percent(share, lang)), model,
                        segments(code, slices))

    return PairView(pair.exercise, _percent(pair.code_score, lang), _reasons(pair, lang), _model_text(pair, lang),
                    side(pair.a.display, pair.a.file_name, pair.similarity_a, pair.a.model, pair.a.code, pair.a.slices),
                    side(pair.b.display, pair.b.file_name, pair.similarity_b, pair.b.model, pair.b.code, pair.b.slices))


def render_pair_page(pair: SimilarPair, lang: Lang = "es", env: Environment | None = None) -> str:
    env = env or template_env()
    t = labels(lang)
    context = page_context(lang, title=f"{t['sim_pair_title']} · {pair.exercise} · {t['tool']}")
    return env.get_template(PAIR_TEMPLATE).render(**context, p=pair_view(pair, lang))


def write_pair_pages(report: SimilarityReport, out_dir: Path, lang: Lang = "es",
                     env: Environment | None = None) -> list[Path]:
    """One page per kept pair, under OUT/similarity/<exercise>/."""
    env = env or template_env()
    written = []
    for e in report.exercises:
        for pair in e.pairs:
            path = pair_path(out_dir, pair)
            write_text_atomic(path, render_pair_page(pair, lang, env))
            written.append(path)
    return written


def load_report(path: Path) -> SimilarityReport | None:
    """OUT/similarity.json, or None when there is none or it cannot be read (the class
    report is then written without the section: similarity is never worth losing it)."""
    if not Path(path).is_file():
        return None
    try:
        return SimilarityReport.load(path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
