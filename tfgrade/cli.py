"""`tfgrade`: a thin command line over the grader. Each subcommand is one function."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tfgrade import __version__
from tfgrade.bench import bench_parser
from tfgrade.errors import TfgradeError, UnknownExercise
from tfgrade.i18n import LANGS, Lang, Msg, default_lang
from tfgrade.setup_check import require_python

# Nothing imported above needs Python 3.11 (runners.config does: tomllib), so that an older
# interpreter gets setup_check's one line rather than a traceback.
if TYPE_CHECKING:
    from tfgrade.pack.course import Course
    from tfgrade.policy.apply import Policy, RunSettings
    from tfgrade.reports.moodle_worksheet import Worksheet
    from tfgrade.runners.config import RunConfig
    from tfgrade.runners.dask_cluster import DaskRunner
    from tfgrade.runners.local import LocalPool
    from tfgrade.supervisor import Sandbox


def _say(msg: Msg, lang: Lang, file: TextIO | None = None) -> None:
    print(msg.get(lang), file=file or sys.stdout)


def _config(args: argparse.Namespace) -> RunConfig:
    """The run's configuration (course, isolation, workers, language): runners.config."""
    from tfgrade.runners.config import RunConfig

    return RunConfig.from_args(args)


def _course(args: argparse.Namespace) -> Course:
    return _config(args).course


def _instructor_only() -> None:
    """Grading commands refuse in the student package (no solutions, no hidden checks)."""
    from tfgrade.release import require_instructor_install

    require_instructor_install()


def _preflight(course) -> None:  # type: ignore[no-untyped-def]
    """Load every exercise's data before grading starts: a bad instructor file is one clear
    error now, not a zero for every student later."""
    from tfgrade.pack import datasets

    for ex in course.exercises:
        if ex.id in datasets.SPECS:
            datasets.load(ex.id, ex.data, base_dir=ex.folder)


def cmd_list(args: argparse.Namespace) -> int:
    course = _course(args)
    for ex in course.exercises:
        hidden = f" ({ex.hidden_points:g} {'ocultos' if args.lang == 'es' else 'hidden'})" if ex.hidden_points else ""
        print(f"{ex.id:<20} {ex.max_points:>5g} pts{hidden}  {ex.title.get(args.lang)}")
    total = sum(e.max_points for e in course.exercises)
    print(f"{'total':<20} {total:>5g} pts")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    course = _course(args)
    target = Path(args.dir)
    target.mkdir(parents=True, exist_ok=True)
    chosen = [course.get(i) for i in args.ids] if args.ids else list(course.exercises)
    for ex in chosen:
        statement = ex.statement(args.lang)
        if args.format == "ipynb":
            from tfgrade.pack.starter_notebook import write_starter_notebook

            dest = target / f"{ex.id}.ipynb"
            if dest.exists() and not args.force:
                _say(Msg(f"{dest} ya existe: no se sobrescribe (usa --force)", f"{dest} exists: not overwritten (use --force)"), args.lang)
                continue
            write_starter_notebook(dest, statement.read_text(encoding="utf-8"),
                                   ex.starter_file.read_text(encoding="utf-8"), args.lang, exercise_id=ex.id)
        else:
            dest = target / f"{ex.id}.py"
            if dest.exists() and not args.force:
                _say(Msg(f"{dest} ya existe: no se sobrescribe (usa --force)", f"{dest} exists: not overwritten (use --force)"), args.lang)
                continue
            shutil.copyfile(ex.starter_file, dest)
            shutil.copyfile(statement, target / f"{ex.id}.{args.lang}.md")
        _say(Msg(f"creado {dest}", f"created {dest}"), args.lang)
    _say(Msg("Comprueba tu trabajo con: tfgrade check <archivo>", "Check your work with: tfgrade check <file>"), args.lang)
    return 0


def _start_sandbox(config: RunConfig, lang: Lang) -> Sandbox:
    """The sandbox side started first (the zygote, or the portable path's first child), so
    that its TensorFlow import overlaps the trusted side's own imports and setup; what is
    off at this level is said before anything runs."""
    from tfgrade.supervisor import protections_off

    sandbox = config.sandbox()
    for line in protections_off(sandbox.plan.level):
        _say(line, lang, sys.stderr)
    return sandbox


def cmd_check(args: argparse.Namespace) -> int:
    """A student's self-check (visible checks only). A set-up problem (TensorFlow missing or
    broken, a file name that matches no exercise) is one line with its fix and exit status 2
    (tfgrade.setup_check), never an internal error per check."""
    from tfgrade import setup_check

    if getattr(args, "watch", False):       # --watch: one warm sandbox, re-checked on each save
        from tfgrade.watch import cmd_watch

        setup_check.require_tensorflow()
        return cmd_watch(args)
    config = _config(args)
    setup_check.require_tensorflow()        # cheap, before anything starts
    sandbox = _start_sandbox(config, args.lang)
    try:
        from tfgrade.engine.grader import Grader
        from tfgrade.reports.terminal import render_exercise

        course = config.course
        pairs = []
        for name in args.files:
            path = Path(name)
            try:
                pairs.append((course.exercise_for_file(path), path))
            except UnknownExercise:
                raise UnknownExercise(setup_check.unknown_file(path.name, course.ids)) from None
        grader = Grader(course, sandbox, config.include_hidden)
    except BaseException:
        sandbox.close()
        raise
    all_passed = True
    probed = False
    try:
        setup_check.require_sandbox(grader.sandbox)
        for ex, path in pairs:
            start = time.monotonic()
            if not path.exists():
                raise TfgradeError(Msg(f"no existe el archivo {path}", f"file {path} does not exist"))
            result = grader.grade_file(ex, path)
            if not probed and setup_check.sandbox_suspect(result):
                probed = True                   # TensorFlow imports but cannot run an op?
                problem = setup_check.probe_tensorflow()
                if problem is not None:
                    raise TfgradeError(problem)
            print(render_exercise(result, args.lang, grader.isolation))
            print(f"({time.monotonic() - start:.1f} s)\n")
            all_passed &= all(c.status in ("passed", "not_applicable") for c in result.checks)
    finally:
        grader.close()
    return 0 if all_passed else 1


def _write_notebook_views(students: list, out: Path) -> None:  # type: ignore[type-arg]
    """Each submitted notebook rendered to HTML with its outputs, sanitized (no script of a
    student's runs in the instructor's browser), linked from the student's report."""
    from tfgrade.engine.results import write_text_atomic
    from tfgrade.errors import SubmissionError
    from tfgrade.reports.notebook_view import render_notebook_html
    from tfgrade.reports.student_report import notebook_path

    for student in students:
        for ex_id, path in student.files.items():
            if path.suffix.lower() != ".ipynb":
                continue
            try:
                html = render_notebook_html(path.read_bytes(), title=f"{student.display} · {ex_id}")
            except (SubmissionError, OSError, ValueError):
                continue          # the result already says why the notebook could not be read
            try:
                write_text_atomic(notebook_path(out, student.file_label, ex_id), html)
            except OSError:
                raise             # a full disk: the run stops with a clear message
            except Exception:  # noqa: BLE001 - one notebook view must not cost the class
                continue          # (text no encoder takes): the report just has no link to it


def _save_similarity(students: list, results: list, course, out: Path, lang: Lang) -> None:  # type: ignore[no-untyped-def,type-arg]
    """OUT/similarity.json for the class report (tfgrade.similarity): a hint, so a failure
    here is a warning and never costs a result or a report."""
    try:
        from tfgrade.similarity.report import compute_similarity

        start = time.monotonic()
        report = compute_similarity(students, results, course)
        report.save(out / "similarity.json")
        _say(Msg(f"Parecido entre entregas comparado en {time.monotonic() - start:.1f} s",
                 f"Similarity between submissions compared in {time.monotonic() - start:.1f} s"), lang, sys.stderr)
    except Exception as exc:  # noqa: BLE001 - every result is saved already
        why = f"{type(exc).__name__}: {exc}"
        try:
            (out / "similarity.json").unlink(missing_ok=True)      # no stale pairs from an earlier run
        except OSError:
            pass
        _say(Msg(f"Aviso: no se pudo calcular el parecido entre entregas ({why}); los informes se escriben sin él.",
                 f"Warning: the similarity between submissions could not be computed ({why}); the reports "
                 "are written without it."), lang, sys.stderr)


def _write_outputs(out: Path, results: list, course, lang: Lang, policy: Policy | None = None,  # type: ignore[no-untyped-def,type-arg]
                   worksheet: Worksheet | None = None) -> None:
    """Gradebook, LMS exports, the class report and one report per student (and Moodle's worksheet)."""
    from tfgrade.reports.render import render_all, say_extras

    summary = render_all(out, lang=lang, reveal_hidden=False, results=results, exercise_ids=list(course.ids),
                         policy=policy, worksheet=worksheet)
    say_extras(summary, out, lang)


def _class_policy(args: argparse.Namespace, course: Course, students: list, out: Path  # type: ignore[type-arg]
                  ) -> tuple[Policy, Worksheet | None]:
    """What the class's grades depend on beyond the results, read and checked before anyone is
    graded (a bad overrides file, worksheet or times file stops us now), then remembered for
    `tfgrade report`: the files given (OUT/run_settings.json), each student's file times (the
    fallback submission time, OUT/submission_times.json), the download's folder names (the
    feedback zip)."""
    from tfgrade.policy.apply import RunSettings
    from tfgrade.policy.overrides import precheck
    from tfgrade.policy.submission_times import newest_file_time, save_file_times

    settings = RunSettings(pack=args.pack, course=args.course, overrides=args.overrides, worksheet=args.worksheet,
                           submission_times=args.submission_times)
    save_file_times(out, {s.key: moment for s in students if (moment := newest_file_time(s.files.values()))})
    policy, worksheet = _policy(settings, course, out)
    if policy.overrides is not None:
        precheck(policy.overrides, [((s.key, s.display, s.student_id or ""), s.name) for s in students],
                 {ex.id: {c.id for c in ex.checks} for ex in course.exercises})
    if any(s.student_id for s in students):
        from tfgrade.reports.moodle_feedback import write_folders

        write_folders(students, out)
    settings.save(out)
    return policy, worksheet


def _policy(settings: RunSettings, course: Course | None, out: Path) -> tuple[Policy, Worksheet | None]:
    """The policy a class is rendered with, and Moodle's worksheet read once (its submission
    times feed the policy; render_all fills it in): a file that is not a worksheet, a bad
    overrides or times file, stops the command before anything is graded or written."""
    from tfgrade.policy.apply import build_policy

    deadline = course.deadline if course is not None else None
    worksheet = None
    if settings.worksheet is not None:
        from tfgrade.reports.moodle_worksheet import read_worksheet, worksheet_submission_times

        worksheet = read_worksheet(settings.worksheet, deadline.zone if deadline else None)
    times = worksheet_submission_times(worksheet) if worksheet is not None else None
    return build_policy(settings, deadline, out, times), worksheet


def _runner(config: RunConfig) -> LocalPool | DaskRunner:
    """The local worker pool, or a Dask cluster when asked for one: both from one RunConfig."""
    if config.uses_dask:
        from tfgrade.runners.dask_cluster import DaskRunner

        return DaskRunner(config)
    from tfgrade.runners.local import LocalPool

    return LocalPool(config)


def _cannot_write(out: Path, exc: OSError) -> Msg:
    why = exc.strerror or str(exc)
    return Msg(f"No se puede escribir en {out}: {why}. Ningún resultado quedó a medias (se escriben de forma "
               "atómica) y los ya escritos se conservan: libera espacio y vuelve a ejecutar el mismo comando.",
               f"Cannot write to {out}: {why}. No result was left half-written (they are written atomically) "
               "and those already written are kept: free some space and run the same command again.")


def cmd_grade(args: argparse.Namespace) -> int:
    from tfgrade.intake.classfolder import discover, write_mapping
    from tfgrade.reports.leaderboard import write_for_class
    from tfgrade.runners.batch import grade_class
    from tfgrade.runners.progress import Progress

    _instructor_only()
    config = _config(args)
    course = config.course
    source = Path(args.submissions)
    if not source.exists():
        raise TfgradeError(Msg(f"no existe {source}", f"{source} does not exist"))
    out = Path(args.out)
    _preflight(course)
    students = discover(source, course, out / ".intake")
    try:
        write_mapping(students, out)
        policy, worksheet = _class_policy(args, course, students, out)
    except OSError as exc:
        _say(_cannot_write(out, exc), args.lang, sys.stderr)
        return 1
    runner = _runner(config)
    _say(Msg(f"{len(students)} estudiantes, {len(course.exercises)} ejercicios, {args.jobs} procesos",
             f"{len(students)} students, {len(course.exercises)} exercises, {args.jobs} workers"), args.lang, sys.stderr)
    try:
        summary = grade_class(students, out, lambda todo: runner.run(todo, course), course,
                              force=args.force, progress=Progress(len(students), args.lang),
                              isolation=config.reached)
    except KeyboardInterrupt:
        runner.close()
        _say(Msg("Interrumpido. Los resultados ya escritos se conservan: vuelve a ejecutar el mismo comando para continuar.",
                 "Interrupted. Results already written are kept: run the same command again to resume."), args.lang, sys.stderr)
        return 130
    except OSError as exc:
        runner.close()
        _say(_cannot_write(out, exc), args.lang, sys.stderr)
        return 1
    _save_similarity(students, summary.results, course, out, args.lang)
    try:
        _write_notebook_views(students, out)
        write_for_class(out, students, summary.results, course)     # OUT/leaderboard.json: [leaderboard]
        _write_outputs(out, summary.results, course, args.lang, policy, worksheet)
    except OSError as exc:
        _say(_cannot_write(out, exc), args.lang, sys.stderr)
        return 1
    except TfgradeError as exc:         # e.g. an override a student's result cannot take
        _say(Msg(f"{exc.text('es')}\nTodos los resultados están guardados: corrige el fichero y ejecuta "
                 f"`tfgrade report {out}`.", f"{exc.text('en')}\nEvery result is saved: fix the file and run "
                 f"`tfgrade report {out}`."), args.lang, sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - every result is saved; say so, not a traceback
        why = f"{type(exc).__name__}: {exc}"
        _say(Msg(f"No se pudieron escribir los informes ({why}). Todos los resultados están guardados en "
                 f"{out / 'results'}: vuelve a generarlos con `tfgrade report {out}`.",
                 f"The reports could not be written ({why}). Every result is saved in {out / 'results'}: "
                 f"rebuild them with `tfgrade report {out}`."), args.lang, sys.stderr)
        return 1
    _say(summary.line(), args.lang, sys.stderr)
    _say(Msg(f"Aislamiento: {runner.isolation}", f"Isolation: {runner.isolation}"), args.lang, sys.stderr)
    _say(Msg(f"Libro de calificaciones: {out / 'gradebook.csv'} · informes: {out / 'index.html'}",
             f"Gradebook: {out / 'gradebook.csv'} · reports: {out / 'index.html'}"), args.lang)
    return 0


def cmd_grade_one(args: argparse.Namespace) -> int:
    """One student's folder (Gradescope's /autograder/submission): results JSON for Gradescope."""
    import json

    from tfgrade.engine.results import write_json_atomic
    from tfgrade.reports.gradescope import to_gradescope
    from tfgrade.reports.leaderboard import gradescope_entries
    from tfgrade.runners.batch import collect_student

    _instructor_only()
    config = _config(args)                  # the student's folder is masked (RunConfig.masks)
    course = config.course
    folder = Path(args.submission)
    if not folder.is_dir():
        raise TfgradeError(Msg(f"{folder} no es una carpeta", f"{folder} is not a folder"))
    _preflight(course)
    grader = config.grader()
    start = time.monotonic()
    try:
        student = collect_student(folder, course, args.name or folder.name)
        result = grader.grade_student(student)
    finally:
        grader.close()
    result = _late_one(result, course, student, args.metadata or folder.parent / "submission_metadata.json")
    if args.gradescope:
        board = gradescope_entries(result, course.leaderboard, args.lang) if course.leaderboard else None
        write_json_atomic(Path(args.gradescope), to_gradescope(result, time.monotonic() - start, lang=args.lang,
                                                               leaderboard=board))
    if args.json:
        result.save(Path(args.json))
    print(json.dumps({"score": result.score, "max_score": result.max_score, "status": result.status}))
    return 0


def _late_one(result, course: Course, student, metadata: Path):  # type: ignore[no-untyped-def]
    """One submission under the course's [deadline]: the time from Gradescope's
    submission_metadata.json (`created_at`), else the files' newest time; an extension may
    be keyed by the student's name or by Gradescope's sid, email or user id."""
    from tfgrade.policy.apply import Policy
    from tfgrade.policy.submission_times import SubmissionTimes, gradescope_created_at, newest_file_time

    if course.deadline is None:
        return result
    created, ids = gradescope_created_at(metadata)
    times = SubmissionTimes()
    if created is not None:
        times = times.with_source("gradescope", {result.key: created})
    elif (moment := newest_file_time(student.files.values())) is not None:
        times = times.with_source("file_time", {result.key: moment})
    return Policy(deadline=course.deadline, times=times).late(result, ids)


def cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    from tfgrade.reports.gradescope import build_gradescope_bundle

    _instructor_only()
    path = build_gradescope_bundle(Path(args.out), Path(args.dist) if args.dist else None, args.course)
    _say(Msg(f"autograder creado: {path}", f"autograder written: {path}"), args.lang)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from tfgrade.engine.validate import validate_pack

    _instructor_only()
    config = _config(args)
    return validate_pack(config.course, config.lang, level=config.isolation)


def cmd_release(args: argparse.Namespace) -> int:
    from tfgrade.release import build_student_wheel

    wheel = build_student_wheel(Path(args.out), args.pack)
    _say(Msg(f"paquete de estudiantes: {wheel} (sin soluciones ni comprobaciones ocultas); publícalo y "
             f"tus estudiantes lo instalan con: pip install {wheel.name}",
             f"student package: {wheel} (no solutions, no hidden checks); publish it and your students "
             f"install it with: pip install {wheel.name}"), args.lang)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Re-render from OUT/results with the policies the class was graded with (OUT/run_settings.json);
    `--course`, `--overrides`, `--worksheet`, `--submission-times` given here replace those."""
    from tfgrade.pack.course import Course
    from tfgrade.policy.apply import RunSettings
    from tfgrade.reports.render import main_report

    out = Path(args.out)
    stored = RunSettings.load(out)
    settings = stored.overlay(pack=args.pack, course=args.course, overrides=args.overrides, worksheet=args.worksheet,
                              submission_times=args.submission_times).without(*args.forget)
    course = Course.load(settings.pack, settings.course) if settings.course is not None else None
    policy, worksheet = _policy(settings, course, out)
    if settings != stored and (out / "results").is_dir():
        settings.save(out)
    return main_report(out, args.lang, args.reveal_hidden, policy=policy, worksheet=worksheet)


def cmd_bench(args: argparse.Namespace) -> int:
    from tfgrade.bench import main_bench

    return main_bench(args)


def _policy_flags(p: argparse.ArgumentParser) -> None:
    """The instructor's files on top of the automatic grade (grade and report)."""
    p.add_argument("--overrides", type=Path, default=None, metavar="CSV",
                   help="instructor overrides: student,exercise,check,points,delta,reason,by,when")
    p.add_argument("--submission-times", type=Path, default=None, metavar="CSV",
                   help="submission times for the [deadline] policy: student,submitted_at")
    p.add_argument("--worksheet", type=Path, default=None, metavar="CSV",
                   help="Moodle's grading worksheet to fill in (OUT/moodle/), and its submission times")


def build_parser() -> argparse.ArgumentParser:
    from tfgrade.runners.config import ISOLATION_LEVELS

    parser = argparse.ArgumentParser(prog="tfgrade", description="TensorFlow 2 course grader / calificador")
    parser.add_argument("--version", action="version", version=f"tfgrade {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=LANGS, default=default_lang(), help="es | en")
    common.add_argument("--pack", type=Path, default=None, help="exercise pack folder (default: bundled)")
    common.add_argument("--course", type=Path, default=None, help="course config TOML (seed, datasets, limits)")
    common.add_argument("--isolation", choices=ISOLATION_LEVELS, default="auto")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", parents=[common], help="exercises, titles and points")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("start", parents=[common], help="copy starters and statements for a student")
    p.add_argument("ids", nargs="*")
    p.add_argument("--dir", default=".")
    p.add_argument("--format", choices=["py", "ipynb"], default="py")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("check", parents=[common], help="self-check: visible checks only")
    p.add_argument("files", nargs="+")
    p.add_argument("--watch", action="store_true", help="re-check each file when it is saved (Ctrl-C to stop)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("grade", parents=[common], help="grade a class: SUBMISSIONS/<student>/<id>.py")
    p.add_argument("submissions")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="regrade students whose files did not change")
    p.add_argument("-j", "--jobs", type=int, default=max(1, os.cpu_count() or 1), help="parallel workers")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--dask-local", type=int, default=0, metavar="N", help="start a local Dask cluster of N workers")
    _policy_flags(p)
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("grade-one", parents=[common], help="grade one student folder (Gradescope)")
    p.add_argument("submission")
    p.add_argument("--gradescope", default=None, help="write Gradescope's results.json here")
    p.add_argument("--json", default=None, help="write tfgrade's own result JSON here")
    p.add_argument("--name", default=None)
    p.add_argument("--metadata", type=Path, default=None,
                   help="Gradescope's submission_metadata.json (default: beside the submission folder)")
    p.set_defaults(func=cmd_grade_one)

    p = sub.add_parser("gradescope-bundle", parents=[common], help="build autograder.zip for Gradescope")
    p.add_argument("--out", default="autograder.zip")
    p.add_argument("--dist", default=None, help="a tfgrade wheel or sdist to ship inside the zip")
    p.set_defaults(func=cmd_gradescope_bundle)

    p = sub.add_parser("validate", parents=[common], help="solutions score full marks, starters score 0")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("release", parents=[common], help="build the student wheel (no solutions, no hidden checks)")
    p.add_argument("--out", default="dist", help="folder the wheel is written to")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("report", parents=[common], help="re-render reports from stored results")
    p.add_argument("out")
    p.add_argument("--reveal-hidden", action="store_true")
    _policy_flags(p)
    p.add_argument("--forget", action="append", default=[], choices=["overrides", "worksheet", "submission_times"],
                   help="stop using a file remembered from an earlier run (OUT/run_settings.json)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("bench", parents=[common, bench_parser()],
                       help="time M^n on each device (Experiments 1 and 2)")
    p.set_defaults(func=cmd_bench)
    return parser


def _lang_in(argv: Sequence[str]) -> Lang:
    """`--lang` read before the parser exists (which needs Python 3.11), else the default."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg[len("--lang="):]
        else:
            continue
        if value in LANGS:
            return "en" if value == "en" else "es"
    return default_lang()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        require_python()                    # before anything that needs Python 3.11
    except TfgradeError as exc:
        print(f"tfgrade: {exc.text(_lang_in(list(sys.argv[1:] if argv is None else argv)))}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except TfgradeError as exc:
        print(f"tfgrade: {exc.text(args.lang)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
