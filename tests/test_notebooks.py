"""Notebooks in (.ipynb → one Python module + shims) and out (starter notebooks, safe HTML)."""

from __future__ import annotations

import ast
import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tfgrade.errors import SubmissionError
from tfgrade.i18n import Msg
from tfgrade.intake.ipython_syntax import rewrite_cell
from tfgrade.intake.notebooks import NotebookSource, notebook_to_source, read_notebook
from tfgrade.pack.starter_notebook import (
    make_starter_notebook,
    split_markdown_sections,
    split_starter_code,
    starter_notebook_for_exercise,
    write_starter_notebook,
)
from tfgrade.reports.notebook_view import CSP, find_active_content, render_notebook_html, sanitize_html

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "notebooks"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable))
NO_CODE = Msg("el cuaderno no tiene código", "the notebook has no code")


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _convert(name: str) -> NotebookSource:
    return notebook_to_source(_fixture(name), name)


_RUNNER = """
import json, sys
sys.path.insert(0, {repo!r})
from tfgrade.sandboxed.ipython_shims import install_shims
install_shims()
namespace = {{"__name__": "student"}}
with open({source!r}, encoding="utf-8") as handle:
    code = compile(handle.read(), {filename!r}, "exec")
exec(code, namespace)
result = eval(compile({probe!r}, "<probe>", "eval"), {{**namespace, "namespace": namespace}})
print("@@RESULT@@" + json.dumps(result, default=repr))
"""


def _run(converted: NotebookSource, probe: str, tmp_path: Path, timeout: float = 60) -> tuple[Any, str]:
    """Run the converted notebook like the sandbox does (shims first); return (probe value, stderr)."""
    source = tmp_path / "converted.py"
    source.write_text(converted.source, encoding="utf-8")
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER.format(repo=str(REPO), source=str(source),
                                     filename=str(tmp_path / "student.ipynb"), probe=probe), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([PYTHON, str(runner)], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"runner failed:\n{done.stdout}\n{done.stderr}"
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("@@RESULT@@"))
    return json.loads(line[len("@@RESULT@@"):]), done.stderr


# ---------------------------------------------------------------- fixtures and reading

def test_fixture_files_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.fixtures()
    on_disk = {p.name for p in FIXTURES.glob("*.ipynb")}
    assert on_disk == set(expected), "run tests/notebooks/make_fixtures.py"
    for name, data in expected.items():
        assert _fixture(name) == data, f"{name} is stale: run tests/notebooks/make_fixtures.py"


READABLE = ["magics.ipynb", "colab.ipynb", "failing_cell.ipynb", "empty.ipynb", "markdown_only.ipynb",
            "v4_0.ipynb", "v4_5.ipynb", "schema_invalid.ipynb", "tiny_tf.ipynb", "xss_outputs.ipynb"]


@pytest.mark.parametrize("name", READABLE)
def test_converted_source_compiles_and_keeps_every_cell_line(name: str) -> None:
    converted = _convert(name)
    compile(converted.source, name, "exec")
    nb, _ = read_notebook(_fixture(name), name)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [span.number for span in converted.cells] == list(range(1, len(code_cells) + 1))
    module_lines = converted.source.split("\n")
    for span, cell in zip(converted.cells, code_cells, strict=True):
        if span.status != "run":
            continue
        rewritten = rewrite_cell(cell.source).lines
        assert span.line_count == len(cell.source.rstrip("\n").split("\n")) == len(rewritten)
        for offset, line in enumerate(rewritten):
            produced = module_lines[span.first_line - 1 + offset]
            # Each cell line sits on its own module line: indented into the try block, or as is
            # when it lies inside a multi-line string (or is blank).
            assert produced in ("    " + line, line), (produced, line)
            assert converted.locate(span.first_line + offset) == (span.number, offset + 1)


def test_v4_0_and_v4_5_notebooks_are_read(tmp_path: Path) -> None:
    old, new = _convert("v4_0.ipynb"), _convert("v4_5.ipynb")
    assert json.loads(_fixture("v4_0.ipynb"))["nbformat_minor"] == 0
    assert json.loads(_fixture("v4_5.ipynb"))["nbformat_minor"] == 5
    assert old.warnings == () and new.warnings == ()
    assert old.defined_functions == new.defined_functions == ("answer",)
    value, _ = _run(old, "answer()", tmp_path)
    assert value == 40


@pytest.mark.parametrize("name", ["empty.ipynb", "markdown_only.ipynb"])
def test_notebook_without_code_gives_one_warning(name: str, tmp_path: Path) -> None:
    converted = _convert(name)
    assert converted.warnings == (NO_CODE,)
    assert converted.defined_functions == ()
    assert all(span.status == "empty" for span in converted.cells)
    value, stderr = _run(converted, "sorted(k for k in namespace if not k.startswith('__'))", tmp_path)
    assert value == [] and stderr == ""


@pytest.mark.parametrize(("name", "es", "en"), [
    ("not_json.ipynb", "el JSON está dañado (línea 1, columna 1", "its JSON is broken (line 1, column 1"),
    ("not_notebook.ipynb", "es JSON pero no un cuaderno", "it is JSON but not a notebook"),
    ("cells_not_list.ipynb", "no tiene lista de celdas", "it has no 'cells' list"),
    ("nbformat_5.ipynb", "usa el formato 5, que no se admite", "it uses format 5, which is not supported"),
])
def test_unreadable_notebooks_raise_a_clear_bilingual_error(name: str, es: str, en: str) -> None:
    with pytest.raises(SubmissionError) as caught:
        _convert(name)
    assert es in caught.value.msg.es and en in caught.value.msg.en
    assert name in caught.value.msg.es and name in caught.value.msg.en
    assert "Descargar" in caught.value.msg.es and "Download" in caught.value.msg.en


def test_non_utf8_and_oversized_files_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SubmissionError) as caught:
        notebook_to_source(b"\xff\xfe\x00garbage", "x.ipynb")
    assert "it is not UTF-8 text" in caught.value.msg.en and "no es texto UTF-8" in caught.value.msg.es
    monkeypatch.setattr("tfgrade.intake.notebooks.MAX_NOTEBOOK_BYTES", 100)
    with pytest.raises(SubmissionError) as caught:
        notebook_to_source(_fixture("magics.ipynb"), "magics.ipynb")
    assert "larger than" in caught.value.msg.en and "borra las salidas grandes" in caught.value.msg.es


def test_schema_violations_warn_unless_strict() -> None:
    converted = _convert("schema_invalid.ipynb")
    assert converted.defined_functions == ("answer",)
    assert len(converted.warnings) == 1
    assert converted.warnings[0].es.startswith("el cuaderno no cumple del todo el formato de Jupyter")
    assert "'extra' was unexpected" in converted.warnings[0].en
    with pytest.raises(SubmissionError) as caught:
        notebook_to_source(_fixture("schema_invalid.ipynb"), "schema_invalid.ipynb", strict=True)
    assert "it does not follow the Jupyter format" in caught.value.msg.en


# ---------------------------------------------------------------- IPython syntax

def _skip(cell: int, line: int, text: str, es_why: str, en_why: str) -> Msg:
    return Msg(f"celda de código {cell}, línea {line}: se omitió `{text}`: {es_why}",
               f"code cell {cell}, line {line}: skipped `{text}`: {en_why}")


SHELL = ("los comandos de shell (!) no se ejecutan al calificar", "shell commands (!) are not run while grading")


def test_magics_notebook_warnings_are_exact() -> None:
    assert _convert("magics.ipynb").warnings == (
        Msg("celda de código 4: se omitió la celda entera (`%%bash`): las celdas %%bash no se ejecutan al calificar",
            "code cell 4: skipped the whole cell (`%%bash`): %%bash cells are not run while grading"),
        Msg("celda de código 5: se omitió la celda entera (`%%writefile`): las celdas %%writefile no se ejecutan al calificar",
            "code cell 5: skipped the whole cell (`%%writefile`): %%writefile cells are not run while grading"),
        _skip(6, 1, "!pip install tensorflow==2.15", *SHELL),
        _skip(6, 2, "files = !ls", *SHELL),
        _skip(6, 3, "%cd /tmp", "la magia %cd no está disponible al calificar",
              "the %cd magic is not available while grading"),
        _skip(6, 4, "len?", "la ayuda de IPython (?) no se usa al calificar", "IPython help (?) is not used while grading"),
        _skip(6, 6, "!echo {i}", *SHELL),
        _skip(6, 7, "who = %who_ls", "la magia %who_ls no está disponible al calificar",
              "the %who_ls magic is not available while grading"),
    )


def test_magics_notebook_runs_like_jupyter(tmp_path: Path) -> None:
    converted = _convert("magics.ipynb")
    assert [span.status for span in converted.cells] == ["run", "run", "run", "skipped", "skipped", "run", "run"]
    assert converted.defined_functions == ("after_time", "indented_cell")
    probe = ("dict(value=value, timed=timed, after=after_time(), captured=captured, files=files, who=who,"
             " text=text, uses=uses, nope='nope' in namespace, failed=_tfgrade_failed_cells)")
    value, _ = _run(converted, probe, tmp_path)
    assert value == {"value": 4.0, "timed": 3.0, "after": "time", "captured": 1, "files": [], "who": None,
                     "text": "\n!not a shell line\n%not a magic\n", "uses": "\n!not a shell line\n%not a magic\n",
                     "nope": False, "failed": []}
    assert not (tmp_path / "helper.py").exists()  # %%writefile did not run


@pytest.mark.parametrize(("line", "expected"), [
    ("%timeit -n 10 -r 3 f(x)", "f(x)"),
    ("for i in r:\n    %time y = g()", "for i in r:\n    y = g()"),
    ("  %time y = g()\n  z = 1", "y = g()\nz = 1"),  # IPython drops a whole cell's indentation
    ("x = %time f()", "x = f()"),
    ("x != y", "x != y"),
    ("a = b % c", "a = b % c"),
    ("print('is it %s?' % x)  # why?", "print('is it %s?' % x)  # why?"),
    ("s = '!not shell'", "s = '!not shell'"),
    ("%matplotlib inline", "pass  # [tfgrade] %matplotlib inline"),
    ("?len", "pass  # [tfgrade] ?len"),
    ("model.fit??", "pass  # [tfgrade] model.fit??"),
    ("x = (1,\n!not_a_shell_line)", "x = (1,\n!not_a_shell_line)"),
    ("t = '''\n%not a magic\n'''", "t = '''\n%not a magic\n'''"),
])
def test_rewrite_cell_line_by_line(line: str, expected: str) -> None:
    rewritten = rewrite_cell(line)
    assert "\n".join(rewritten.lines) == expected
    assert len(rewritten.lines) == len(line.split("\n"))


def test_cell_magic_only_counts_on_the_first_line() -> None:
    late = rewrite_cell("x = 1\n%%bash\necho hi")
    assert late.skipped_by is None
    assert [(n.line, n.kind, n.magic) for n in late.notes] == [(2, "magic", "%%bash")]
    first = rewrite_cell("\n%%html\n<b>hi</b>")
    assert first.skipped_by == "%%html"


def test_failing_cell_does_not_stop_later_cells(tmp_path: Path) -> None:
    converted = _convert("failing_cell.ipynb")
    assert converted.defined_functions == ("before", "after", "helper_fails", "last")
    assert converted.warnings == (Msg(
        "celda de código 7, línea 1: error de sintaxis (invalid syntax); la celda no se ejecuta al calificar",
        "code cell 7, line 1: syntax error (invalid syntax); the cell is not run while grading"),)
    probe = "dict(after=after(), last=last(), text=text, x=x, failed=_tfgrade_failed_cells)"
    value, stderr = _run(converted, probe, tmp_path)
    assert value["after"] == 2 and value["last"] == "still here" and value["x"] == 1
    assert value["text"] == "línea 1\n    línea 2 sin tocar\n"  # multi-line strings are never re-indented
    assert value["failed"] == [
        {"cell": 2, "type": "ValueError", "message": "boom en la celda 2", "at_cell": 2, "at_line": 2},
        {"cell": 4, "type": "RuntimeError",
         "message": "input() no está disponible al calificar / input() is not available while grading",
         "at_cell": 4, "at_line": 1},
        {"cell": 6, "type": "ZeroDivisionError", "message": "division by zero", "at_cell": 5, "at_line": 2},
        {"cell": 7, "type": "SyntaxError", "message": "invalid syntax", "at_cell": 7, "at_line": 1},
        {"cell": 8, "type": "SystemExit", "message": "3", "at_cell": 8, "at_line": 2},
    ]
    assert ("[tfgrade] celda de código 2 lanzó ValueError: boom en la celda 2 (línea 2); las demás celdas siguen"
            in stderr)
    assert "[tfgrade] code cell 6 raised ZeroDivisionError: division by zero (cell 5, line 2)" in stderr


def test_where_points_at_the_students_cell() -> None:
    converted = _convert("failing_cell.ipynb")
    line = converted.source.split("\n").index("    raise ValueError('boom en la celda 2')") + 1
    assert converted.where(line) == Msg("celda de código 2, línea 2", "code cell 2, line 2")
    assert converted.where(1) is None


# ---------------------------------------------------------------- shims

def test_colab_notebook_runs_without_colab(tmp_path: Path) -> None:
    converted = _convert("colab.ipynb")
    assert converted.warnings == ()
    value, stderr = _run(converted, "dict(after=after_drive(), colab=IN_COLAB, failed=_tfgrade_failed_cells)",
                         tmp_path)
    assert value["after"] == "ok" and value["colab"] is False
    assert [(f["cell"], f["type"]) for f in value["failed"]] == [(2, "FileNotFoundError"), (4, "RuntimeError")]
    assert "/content/drive/MyDrive/datos.csv" in value["failed"][0]["message"]
    assert value["failed"][1]["message"].startswith("files.upload() no está disponible al calificar")
    assert "the grader supplies the data" in value["failed"][1]["message"]
    assert "[tfgrade] drive.mount('/content/drive') se omite al calificar / is skipped while grading" in stderr
    assert "files.download('modelo.h5') se omite" in stderr


def test_shims_keep_plots_headless_and_the_google_namespace(tmp_path: Path) -> None:
    code = ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nbackend = plt.get_backend()\n"
            "from IPython.display import clear_output, HTML\nclear_output()\n"
            "import importlib.util\nprotobuf = importlib.util.find_spec('google.protobuf') is not None\n"
            "import google.colab.drive\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    converted = notebook_to_source(nbformat.writes(nb).encode(), "plots.ipynb")
    has_protobuf = importlib.util.find_spec("google.protobuf") is not None
    value, _ = _run(converted, "dict(backend=backend.lower(), protobuf=protobuf, failed=_tfgrade_failed_cells)",
                    tmp_path)
    assert value == {"backend": "agg", "protobuf": has_protobuf, "failed": []}


def test_tiny_tensorflow_notebook_defines_its_model(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    converted = _convert("tiny_tf.ipynb")
    value, stderr = _run(converted, "dict(params=build_model().count_params(), failed=_tfgrade_failed_cells)",
                         tmp_path, timeout=240)
    assert value["params"] == 3265
    assert [(f["cell"], f["type"]) for f in value["failed"]] == [(4, "NameError")]
    assert "x_train" in value["failed"][0]["message"]


# ---------------------------------------------------------------- starter notebooks

STATEMENT = """# Ejercicio de prueba

Texto inicial.

```python
# esto no es un encabezado
x = 1
```

## Qué tienes que escribir

Comprueba con `tfgrade check ex99_demo.py`.
"""
STARTER = '''"""Docstring del módulo: no va al cuaderno."""

import math

SCALE = 2


# La función principal
def scale(x):
    """Multiplica por SCALE."""
    raise NotImplementedError


@staticmethod
def helper():
    return math.pi


class Thing:
    pass
'''


def test_markdown_is_split_before_headings_outside_code_fences() -> None:
    sections = split_markdown_sections(STATEMENT)
    assert len(sections) == 2
    assert sections[0].startswith("# Ejercicio de prueba") and "# esto no es un encabezado" in sections[0]
    assert sections[1].startswith("## Qué tienes que escribir")


def test_starter_code_is_split_into_cells() -> None:
    assert split_starter_code(STARTER) == [
        "import math\n\nSCALE = 2",
        "# La función principal\ndef scale(x):\n    \"\"\"Multiplica por SCALE.\"\"\"\n    raise NotImplementedError",
        "@staticmethod\ndef helper():\n    return math.pi",
        "class Thing:\n    pass",
    ]
    assert split_starter_code("import os\n# %%\ndef f():\n    pass\n# %% otra\nx = 1\n") == [
        "import os", "def f():\n    pass", "x = 1"]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_starter_notebook_round_trips_to_the_starter_functions(lang: str, tmp_path: Path) -> None:
    nb = make_starter_notebook(STATEMENT, STARTER, lang, exercise_id="ex99_demo")  # type: ignore[arg-type]
    nbformat.validate(nb)
    kinds = [cell.cell_type for cell in nb.cells]
    assert kinds == ["markdown", "markdown", "code", "code", "code", "code", "markdown"]
    assert "tfgrade check ex99_demo.ipynb" in nb.cells[1].source  # the statement points at the notebook
    assert "tfgrade check ex99_demo.ipynb" in nb.cells[-1].source
    assert ("Comprueba tu trabajo" if lang == "es" else "Check your work") in nb.cells[-1].source
    assert nb.metadata["tfgrade"] == {"exercise": "ex99_demo", "lang": lang}
    path = write_starter_notebook(tmp_path / "out" / "ex99_demo.ipynb", STATEMENT, STARTER, lang,  # type: ignore[arg-type]
                                  exercise_id="ex99_demo")
    again = path.read_bytes()
    assert again == nbformat.writes(nb).encode("utf-8")  # deterministic: same inputs, same bytes
    converted = notebook_to_source(again, "ex99_demo.ipynb")
    assert converted.warnings == ()
    assert converted.defined_functions == ("scale", "helper")


PACK = sorted(p for p in (REPO / "exercises").glob("*")
              if (p / "starter.py").exists() and (p / "statement.es.md").exists() and (p / "statement.en.md").exists())


@pytest.mark.parametrize("exercise", PACK, ids=[p.name for p in PACK])
def test_pack_starters_become_notebooks_with_the_same_functions(exercise: Path) -> None:
    starter_tree = ast.parse((exercise / "starter.py").read_text(encoding="utf-8"))
    expected = tuple(n.name for n in starter_tree.body if isinstance(n, ast.FunctionDef))
    for lang in ("es", "en"):
        nb = starter_notebook_for_exercise(exercise, lang)  # type: ignore[arg-type]
        converted = notebook_to_source(nbformat.writes(nb).encode(), f"{exercise.name}.ipynb")
        assert converted.defined_functions == expected
        assert converted.warnings == ()
        assert f"tfgrade check {exercise.name}.ipynb" in nb.cells[-1].source


# ---------------------------------------------------------------- rendering for instructors

def test_rendered_hostile_outputs_are_inert() -> None:
    page = render_notebook_html(_fixture("xss_outputs.ipynb"), title="xss_outputs")
    assert find_active_content(page) == []
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]*\sonerror\s*=", page, re.IGNORECASE)
    assert "javascript:" not in page.lower()
    assert f'content="{CSP}"' in page
    assert "<b>negrita</b>" in page  # harmless HTML output is kept
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # stdout shown as text
    assert 'src="data:image/svg+xml;base64,' in page  # SVG through <img>
    assert "salida interactiva (JavaScript/widget) omitida" in page


def test_huge_images_are_replaced_and_small_ones_kept() -> None:
    small = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(200)).decode()
    huge = base64.b64encode(bytes(3 * 1024 * 1024)).decode()
    cell = nbformat.v4.new_code_cell("plt.show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": huge, "text/plain": "<Figure>"}),
                    nbformat.v4.new_output("display_data", data={"image/png": small}),
                    nbformat.v4.new_output("stream", name="stdout", text="x" * 300_000)]
    nb = nbformat.v4.new_notebook(cells=[cell])
    page = render_notebook_html(nbformat.writes(nb).encode())
    assert huge[:1000] not in page
    assert "imagen de 3.0 MB omitida (máximo 2 MB) / 3.0 MB image omitted (2 MB limit)" in page
    assert f"data:image/png;base64,{small}" in page
    assert "100000 caracteres más omitidos" in page
    assert len(page) < 1_000_000


@pytest.mark.parametrize(("fragment", "found"), [
    ("<img src=x onerror=alert(1)>", ["<img src=remote>", "<img onerror=…>"]),
    ("<script>alert(1)</script>", ["<script>"]),
    ('<a href="javascript:alert(1)">x</a>', ["<a href=javascript:…>"]),
    ("<iframe src=//evil></iframe>", ["<iframe>", "<iframe src=…>"]),
    ("<b>ok</b><img src='data:image/png;base64,AAAA'>", []),
])
def test_active_content_finder(fragment: str, found: list[str]) -> None:
    assert find_active_content(fragment) == found


def test_sanitizer_keeps_tables_and_drops_handlers() -> None:
    clean = sanitize_html("<style>.x{color:red}</style><table class='dataframe' border=1><tr>"
                          "<th onclick='x()' style='color:red'>a</th></tr></table><img src='http://t/p.png'>")
    assert find_active_content(clean) == []
    assert ".x{color:red}" not in clean and "style=" not in clean
    assert '<table class="dataframe" border="1">' in clean and "<th>a</th>" in clean


# ---------------------------------------------------------------- in a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
_ALERT_SPY = "<script>window.alert = function () { document.documentElement.setAttribute('data-alert', 'fired'); };</script>"


def _dom_after_scripts(page: str, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_text(page, encoding="utf-8")
    done = subprocess.run([CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--virtual-time-budget=3000", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")
def test_no_student_script_runs_in_a_browser(tmp_path: Path) -> None:
    # Control: the harness does see scripts and handlers run when nothing stops them.
    control = f"<html><head>{_ALERT_SPY}</head><body><img src=x onerror=alert(1)>" \
              "<script>document.title='PW'+'NED'</script></body></html>"
    dom = _dom_after_scripts(control, tmp_path, "control.html")
    assert 'data-alert="fired"' in dom and "PWNED" in dom
    page = render_notebook_html(_fixture("xss_outputs.ipynb"))
    # All layers together.
    assert "PWNED" not in _dom_after_scripts(page, tmp_path, "full.html")
    # The sanitizer alone: CSP removed and an alert spy injected (it runs, the payloads do not).
    no_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', _ALERT_SPY, page)
    assert no_csp != page
    dom = _dom_after_scripts(no_csp, tmp_path, "no_csp.html")
    assert 'data-alert="fired"' not in dom and "PWNED" not in dom
    # The CSP alone: unsanitized payloads under our policy stay dead.
    raw = (f'<html><head><meta http-equiv="Content-Security-Policy" content="{CSP}"></head><body>'
           "<img src=x onerror=\"document.body.setAttribute('data-pwned','PW'+'NED')\">"
           "<script>document.title='PW'+'NED'</script></body></html>")
    assert "PWNED" not in _dom_after_scripts(raw, tmp_path, "csp_only.html")
