"""`tfgrade bench`: how fast is M^n by square-and-multiply, per device, dtype and size?

Trusted side: this module never imports TensorFlow and never runs the measured code. It
asks tfgrade/sandboxed/bench_kernel.py, in a child process, for rows of measurements (JSON
on the child's stdout), checks them as untrusted data, and writes a terminal table, a CSV
and a PNG plot. `run_kernel` is the one place that starts the child: the sandbox route for
`--file` (student files) replaces it without touching the rest.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfgrade.errors import TfgradeError
from tfgrade.i18n import Lang, Msg, default_lang

if TYPE_CHECKING:
    from tfgrade.runners.config import RunConfig

PACKAGE_ROOT = Path(__file__).resolve().parent
KERNEL_MODULE = "tfgrade.sandboxed.bench_kernel"
PROGRESS = "tfgrade-bench: "          # same prefix as bench_kernel.PROGRESS (not imported: TF side)
SOLUTION_FILE = "ex05_matrix_power.py"
DTYPES = ("float16", "bfloat16", "float32", "float64")
METHODS = ("square_and_multiply", "naive_loop")
CSV_COLUMNS = (
    "device", "device_name", "dtype", "size", "method", "power", "products", "status", "reason",
    "detail", "repeats", "median_s", "min_s", "gflops", "matmul_s", "matmul_gflops",
    "fraction_of_matmul", "max_rel_error", "result_device",
)
_NUMBERS = {"size", "power", "products", "repeats", "median_s", "min_s", "gflops", "matmul_s",
            "matmul_gflops", "fraction_of_matmul", "max_rel_error"}
_INTEGERS = {"size", "power", "products", "repeats"}
MAX_ROWS = 10_000
STATUS_LABELS = {"skipped": Msg("omitido", "skipped"), "error": Msg("error", "error")}

REASONS = {
    "not_listed": Msg("TensorFlow no ve este dispositivo en esta máquina",
                      "TensorFlow lists no such device on this machine"),
    "not_usable": Msg("el dispositivo aparece, pero las operaciones no se ejecutan en él",
                      "the device is listed, but operations do not run on it"),
    "dtype_unsupported": Msg("este tipo de dato no tiene producto de matrices en este dispositivo",
                             "this dtype has no matrix product on this device"),
    "raised": Msg("matrix_power lanzó una excepción", "matrix_power raised an exception"),
}


class BenchError(TfgradeError):
    """A measuring child that failed: explained, never a traceback (exit code 1)."""


class BenchOptionError(BenchError):
    """An option that makes no sense (exit code 2, like argparse's own errors)."""


@dataclass(frozen=True)
class BenchOptions:
    """A bench run's options; these defaults are the command line's too (add_bench_arguments)."""

    sizes: tuple[int, ...] = (512, 1024, 2048)
    power: int = 64
    devices: tuple[str, ...] = ("cpu", "gpu")
    dtypes: tuple[str, ...] = ("float32", "float16")
    file: Path | None = None            # None: the bundled reference solution
    out: Path = Path("out/bench")
    repeats: int = 3
    timeout_s: float = 3600.0


@dataclass(frozen=True)
class BenchReport:
    rows: tuple[dict[str, Any], ...]
    devices_found: tuple[str, ...]
    tensorflow: str
    solution: Path
    files: dict[str, Path] = field(default_factory=dict)


DEFAULTS = BenchOptions()


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `tfgrade bench`, defined once: their defaults are BenchOptions'."""
    d = DEFAULTS
    parser.add_argument("--sizes", default=",".join(map(str, d.sizes)),
                        help="matrix sizes, comma-separated (default: %(default)s)")
    parser.add_argument("--power", type=int, default=d.power, help="the exponent n of M^n (default: %(default)s)")
    parser.add_argument("--devices", default=",".join(d.devices),
                        help="cpu, gpu or TensorFlow device names, comma-separated (default: %(default)s)")
    parser.add_argument("--dtype", default=",".join(d.dtypes),
                        help=f"any of {','.join(DTYPES)}, comma-separated (default: %(default)s)")
    parser.add_argument("--file", default=None,
                        help="a student's matrix_power file, run in the grading sandbox "
                             "(default: the reference solution)")
    parser.add_argument("--out", default=str(d.out), help="folder for bench.csv and bench.png (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=d.repeats,
                        help="timed runs per measurement (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=d.timeout_s,
                        help="seconds for the whole run (default: %(default)s)")


def bench_parser() -> argparse.ArgumentParser:
    """The options of `tfgrade bench` as a parent parser (`parents=[bench_parser()]`)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_bench_arguments(parser)
    return parser


def _bad(es: str, en: str) -> BenchError:
    return BenchError(Msg(es, en))


def _bad_option(es: str, en: str) -> BenchOptionError:
    return BenchOptionError(Msg(es, en))


def _split(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def options_from(args: argparse.Namespace | Mapping[str, Any] | None = None, **kwargs: Any) -> BenchOptions:
    """BenchOptions from an argparse namespace, a dict or keywords; unknown keys are ignored."""
    given = dict(vars(args) if isinstance(args, argparse.Namespace) else (args or {}))
    given.update(kwargs)
    given = {k: v for k, v in given.items() if v is not None}
    d = DEFAULTS
    try:
        sizes = tuple(int(s) for s in _split(given.get("sizes", d.sizes)))
    except ValueError:
        raise _bad_option(f"--sizes: se esperaban enteros separados por comas, hay {given.get('sizes')!r}",
                   f"--sizes: expected comma-separated integers, found {given.get('sizes')!r}") from None
    dtypes = tuple(_split(given.get("dtype", given.get("dtypes", d.dtypes))))
    power, repeats = int(given.get("power", d.power)), int(given.get("repeats", d.repeats))
    if not sizes or any(s < 1 for s in sizes):
        raise _bad_option(f"--sizes: cada tamaño debe ser ≥ 1, hay {sizes}", f"--sizes: every size must be ≥ 1, found {sizes}")
    if power < 0:
        raise _bad_option(f"--power debe ser ≥ 0, hay {power}", f"--power must be ≥ 0, found {power}")
    if repeats < 1:
        raise _bad_option(f"--repeats debe ser ≥ 1, hay {repeats}", f"--repeats must be ≥ 1, found {repeats}")
    unknown = [d for d in dtypes if d not in DTYPES]
    if not dtypes or unknown:
        raise _bad_option(f"--dtype: tipos desconocidos {unknown}; se admiten {', '.join(DTYPES)}",
                   f"--dtype: unknown dtypes {unknown}; accepted: {', '.join(DTYPES)}")
    devices = tuple(_split(given.get("devices", d.devices)))
    if not devices:
        raise _bad_option("--devices está vacío", "--devices is empty")
    file = Path(given["file"]) if given.get("file") else None
    if file is not None and not file.is_file():
        raise _bad_option(f"--file: no existe el archivo {file}", f"--file: no such file {file}")
    return BenchOptions(sizes=sizes, power=power, devices=devices, dtypes=dtypes, file=file,
                        out=Path(given.get("out", d.out)), repeats=repeats,
                        timeout_s=float(given.get("timeout", given.get("timeout_s", d.timeout_s))))


def reference_solution_path() -> Path:
    """solutions/ex05_matrix_power.py of a checkout, else the copy bundled in the wheel."""
    for folder in (PACKAGE_ROOT.parent / "solutions", PACKAGE_ROOT / "_bundled" / "solutions"):
        candidate = folder / SOLUTION_FILE
        if candidate.is_file():
            return candidate
    raise _bad(f"no se encuentra la solución de referencia {SOLUTION_FILE}",
               f"the reference solution {SOLUTION_FILE} cannot be found")


def kernel_request(options: BenchOptions, solution: Path,
                   available_devices: Sequence[str] | None = None) -> dict[str, Any]:
    return {"sizes": list(options.sizes), "power": options.power, "devices": list(options.devices),
            "dtypes": list(options.dtypes), "repeats": options.repeats, "solution": str(solution),
            "available_devices": list(available_devices) if available_devices is not None else None}


def run_kernel(request: dict[str, Any], timeout_s: float, env: Mapping[str, str] | None = None,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the kernel in a child Python; its JSON answer, or BenchError with its stderr tail."""
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT.parent), child_env.get("PYTHONPATH", "")) if p)
    child_env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    proc = subprocess.Popen([sys.executable, "-m", KERNEL_MODULE, json.dumps(request)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else ""))
    reader.start()
    expired = threading.Event()

    def kill_on_timeout() -> None:
        expired.set()
        proc.kill()

    timer = threading.Timer(timeout_s, kill_on_timeout)
    timer.start()
    tail: deque[str] = deque(maxlen=40)
    try:
        for line in proc.stderr or ():
            if line.startswith(PROGRESS) and progress is not None:
                progress(line[len(PROGRESS):].rstrip())
            else:
                tail.append(line)
        code = proc.wait()
        reader.join()
    finally:
        timer.cancel()
    if expired.is_set():
        raise _bad(f"la medición superó {timeout_s:.0f} s", f"the measurement took over {timeout_s:.0f} s")
    text = "".join(out).strip()
    if code != 0 or not text:
        raise _bad(f"el proceso de medición falló (código {code}):\n" + "".join(tail),
                   f"the measuring process failed (exit code {code}):\n" + "".join(tail))
    try:
        answer = json.loads(text.splitlines()[-1])
    except json.JSONDecodeError:
        raise _bad("el proceso de medición no devolvió JSON", "the measuring process returned no JSON") from None
    if not isinstance(answer, dict) or not isinstance(answer.get("rows"), list):
        raise _bad("respuesta de medición sin filas", "measurement answer without rows")
    return answer


def run_in_sandbox(options: BenchOptions, available_devices: Sequence[str] | None = None,
                   config: RunConfig | None = None) -> dict[str, Any]:
    """A student's file is untrusted: its matrix_power runs in the grading sandbox (the one
    `config` builds: its course, isolation level and threads), and only the rows (data) come
    back. The file's folder is hidden from it."""
    from tfgrade.engine.proxy import StudentError, StudentProxy
    from tfgrade.errors import SubmissionError
    from tfgrade.intake.source import read_submission
    from tfgrade.runners.config import RunConfig

    assert options.file is not None
    try:
        source = read_submission(options.file)
    except SubmissionError as exc:
        raise BenchError(exc.msg) from None
    config = config or RunConfig()
    course = config.course
    sandbox = config.sandbox(options.file.resolve().parent)
    proxy = StudentProxy(sandbox=sandbox, module="ex05_matrix_power", filename="ex05_matrix_power.py",
                         source=source.text, seed=course.seed, train_timeout_s=options.timeout_s)
    try:
        rows = proxy.builtin("bench", sizes=list(options.sizes), power=options.power,
                             devices=list(options.devices), dtypes=list(options.dtypes),
                             repeats=options.repeats,
                             available=list(available_devices) if available_devices is not None else None)
    except StudentError as exc:
        raise BenchError(exc.msg()) from None
    finally:
        proxy.close()
        sandbox.close()
    return {"rows": rows if isinstance(rows, list) else [], "devices_found": [], "tensorflow": ""}


def clean_row(raw: Any) -> dict[str, Any]:
    """A row from the child, reduced to known columns with the right types (untrusted data)."""
    source = raw if isinstance(raw, dict) else {}
    row: dict[str, Any] = {}
    for key in CSV_COLUMNS:
        value = source.get(key)
        if key in _NUMBERS:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                row[key] = int(value) if key in _INTEGERS else float(value)
            else:
                row[key] = None
        else:
            row[key] = str(value)[:300] if value is not None else ""
    return row


def run_bench(options: BenchOptions, *, available_devices: Sequence[str] | None = None,
              env: Mapping[str, str] | None = None,
              progress: Callable[[str], None] | None = None,
              config: RunConfig | None = None) -> BenchReport:
    """Measure (in the child) and return the rows; writes nothing. `config` builds the
    sandbox for `--file`."""
    solution = options.file or reference_solution_path()
    if options.file is not None:
        answer = run_in_sandbox(options, available_devices, config)
    else:
        answer = run_kernel(kernel_request(options, solution, available_devices), options.timeout_s, env, progress)
    rows = tuple(clean_row(r) for r in answer["rows"][:MAX_ROWS])
    found = answer.get("devices_found")
    return BenchReport(rows=rows, solution=solution, tensorflow=str(answer.get("tensorflow", ""))[:40],
                       devices_found=tuple(str(d)[:80] for d in found) if isinstance(found, list) else ())


def reason_text(row: Mapping[str, Any], lang: Lang) -> str:
    msg = REASONS.get(str(row.get("reason")))
    text = msg.get(lang) if msg else str(row.get("reason") or "")
    return f"{text} ({row['detail']})" if row.get("detail") else text


def _fmt(value: Any, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_table(rows: Sequence[Mapping[str, Any]], lang: Lang = "es") -> str:
    """The terminal table: measured rows, then one line per skipped device/dtype and reason."""
    es = lang == "es"
    head = (("dispositivo", "tipo", "tamaño", "método", "mediana s", "GFLOP/s", "% matmul", "error rel.")
            if es else ("device", "dtype", "size", "method", "median s", "GFLOP/s", "% matmul", "rel. error"))
    lines = ["{:<12} {:<9} {:>6}  {:<20} {:>10} {:>9} {:>9} {:>10}".format(*head)]
    lines.append("-" * len(lines[0]))
    skipped: dict[tuple[str, str, str], str] = {}
    for r in rows:
        if r.get("status") != "ok":
            label = STATUS_LABELS.get(str(r.get("status")), STATUS_LABELS["skipped"]).get(lang)
            skipped.setdefault((str(r["device"]), str(r["dtype"]), reason_text(r, lang)), label)
            continue
        fraction = r.get("fraction_of_matmul")
        lines.append("{:<12} {:<9} {:>6}  {:<20} {:>10} {:>9} {:>9} {:>10}".format(
            r["device"], r["dtype"], r["size"], r["method"], _fmt(r.get("median_s"), ".4f"),
            _fmt(r.get("gflops"), ".1f"), _fmt(None if fraction is None else 100 * fraction, ".0f"),
            _fmt(r.get("max_rel_error"), ".1e")))
    for (device, dtype, why), label in skipped.items():
        lines.append(f"{device:<12} {dtype:<9} {label}: {why}")
    return "\n".join(lines)


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return path


def write_plot(rows: Sequence[Mapping[str, Any]], path: Path, lang: Lang = "es", power: int | None = None) -> Path:
    """Time and GFLOP/s against size: one line per device/dtype/method (Agg, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    es = lang == "es"
    fig = Figure(figsize=(11, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax_time, ax_rate = fig.subplots(1, 2)
    series: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        if r.get("status") == "ok" and r.get("median_s") is not None:
            series.setdefault((str(r["device"]), str(r["dtype"]), str(r["method"])), []).append(r)
    for (device, dtype, method), points in sorted(series.items()):
        points = sorted(points, key=lambda p: p["size"])
        sizes = [p["size"] for p in points]
        style = "-" if method == "square_and_multiply" else "--"
        label = f"{device} {dtype} {method}"
        ax_time.plot(sizes, [p["median_s"] for p in points], style, marker="o", label=label)
        ax_rate.plot(sizes, [p["gflops"] for p in points], style, marker="o", label=label)
        if method == "square_and_multiply":
            ax_rate.plot(sizes, [p["matmul_gflops"] for p in points], ":", color="grey", linewidth=1)
    prefix = f"M^{power}: " if power is not None else ""
    ax_time.set_title(prefix + ("tiempo (mediana)" if es else "time (median)"))
    ax_rate.set_title("GFLOP/s (" + ("punteado: tf.matmul solo" if es else "dotted: plain tf.matmul") + ")")
    for ax in (ax_time, ax_rate):
        ax.set_xlabel("tamaño n (matriz n×n)" if es else "size n (n×n matrix)")
        ax.grid(True, alpha=0.3)
        if series:
            ax.set_xscale("log", base=2)
    ax_time.set_ylabel("s")
    if series:
        ax_time.set_yscale("log")
        ax_rate.legend(fontsize=7)
    else:
        ax_time.text(0.5, 0.5, "nada medido" if es else "nothing measured", ha="center",
                     transform=ax_time.transAxes)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def main_bench(args: argparse.Namespace | Mapping[str, Any] | None = None, **kwargs: Any) -> int:
    """The `tfgrade bench` command: 0 when it measured (skipped devices included), 1/2 on errors.

    Besides the options: `lang` ("es"/"en", else the environment's), and for tests
    `available_devices` (a fake device list for the kernel) and `env` (the child's environment).
    """
    from tfgrade.runners.config import RunConfig

    given = dict(vars(args) if isinstance(args, argparse.Namespace) else (args or {}))
    chosen = kwargs.pop("lang", None) or given.get("lang")
    lang: Lang = chosen if chosen in ("es", "en") else default_lang()
    available = kwargs.pop("available_devices", None)
    env = kwargs.pop("env", None)
    try:
        options = options_from(args, **kwargs)
        config = RunConfig.from_args({**given, **kwargs, "lang": lang})
        report = run_bench(options, available_devices=available, env=env, config=config,
                           progress=lambda text: print("… " + text, file=sys.stderr, flush=True))
    except BenchError as err:
        print(err.text(lang), file=sys.stderr)
        return 2 if isinstance(err, BenchOptionError) else 1
    report = replace(report, files={
        "csv": write_csv(report.rows, options.out / "bench.csv"),
        "png": write_plot(report.rows, options.out / "bench.png", lang, options.power),
    })
    header = Msg(f"M^{options.power} por cuadrado-y-multiplica frente al bucle ingenuo — {report.solution.name}, "
                 f"TensorFlow {report.tensorflow}, dispositivos: {', '.join(report.devices_found) or '—'}",
                 f"M^{options.power} by square-and-multiply vs the naive loop — {report.solution.name}, "
                 f"TensorFlow {report.tensorflow}, devices: {', '.join(report.devices_found) or '—'}")
    print(header.get(lang))
    print(format_table(report.rows, lang))
    print(Msg(f"escrito: {report.files['csv']} y {report.files['png']}",
              f"written: {report.files['csv']} and {report.files['png']}").get(lang))
    return 0
