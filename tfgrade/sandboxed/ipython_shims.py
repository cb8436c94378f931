"""Stand-ins for what a notebook expects from Jupyter or Colab, installed before student code.

Sandbox side: runs in the student's process, standard library only (nothing here is trusted).
A notebook converted by `tfgrade.intake.notebooks` may still call `display(...)`, `get_ipython()`,
`from google.colab import drive` or `from IPython.display import clear_output`; none of that
may crash or block grading. Interactive input is the exception: `input()` raises a clear
error instead of waiting forever on a closed stdin. Harmless for plain .py submissions.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import os
import reprlib
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any, NoReturn

INPUT_ERROR = "input() no está disponible al calificar / input() is not available while grading"
UPLOAD_ERROR = ("files.upload() no está disponible al calificar: el calificador proporciona los datos / "
                "files.upload() is not available while grading: the grader supplies the data")
SECRETS_ERROR = ("userdata.get() no está disponible al calificar / "
                 "userdata.get() is not available while grading")
_FAKE_MARK = "__tfgrade_fake__"
_short = reprlib.Repr()
_short.maxstring = 200
_short.maxother = 200


def _default_warn(text: str) -> None:
    print(f"[tfgrade] {text}", file=sys.stderr)


def _no_input(prompt: object = "") -> NoReturn:
    raise RuntimeError(INPUT_ERROR)


def _display(*objs: Any, **_options: Any) -> None:
    """IPython's display(): here a short repr on stdout, so nothing rich is rendered."""
    for obj in objs:
        try:
            text = _short.repr(obj)
        except Exception:  # a student's object with a broken __repr__ must not fail the cell
            text = f"<{type(obj).__name__}>"
        print(text)


class _ShellStub:
    """What get_ipython() returns: every magic and shell call is a no-op that says so."""

    def __init__(self, warn: Callable[[str], None]) -> None:
        self._warn = warn

    def __repr__(self) -> str:
        return "<tfgrade shell stub>"  # so `'google.colab' in str(get_ipython())` is False

    def run_line_magic(self, name: str, line: str = "", *args: Any, **kwargs: Any) -> None:
        self._warn(f"%{name} ignorada al calificar / %{name} ignored while grading")

    def run_cell_magic(self, name: str, line: str = "", cell: str = "", *args: Any, **kwargs: Any) -> None:
        self._warn(f"%%{name} ignorada al calificar / %%{name} ignored while grading")

    def magic(self, line: str = "", *args: Any, **kwargs: Any) -> None:
        self._warn(f"%{line} ignorada al calificar / %{line} ignored while grading")

    def system(self, cmd: str = "", *args: Any, **kwargs: Any) -> None:
        self._warn(f"!{cmd} ignorado al calificar / !{cmd} ignored while grading")

    def getoutput(self, cmd: str = "", *args: Any, **kwargs: Any) -> list[str]:
        self.system(cmd)
        return []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def _module(name: str, doc: str, **attrs: Any) -> types.ModuleType:
    module = types.ModuleType(name, doc)
    module.__dict__.update(attrs)
    setattr(module, _FAKE_MARK, True)
    return module


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _lenient_module(name: str, doc: str) -> types.ModuleType:
    """A module where any attribute is a no-op function (google.colab.output, data_table…)."""
    module = _module(name, doc)
    setattr(module, "__getattr__", lambda attr: _noop if not attr.startswith("__") else _raise_attr(attr))  # noqa: B010
    return module


def _raise_attr(name: str) -> NoReturn:
    raise AttributeError(name)


def _install_google_colab(warn: Callable[[str], None]) -> None:
    def mount(mountpoint: str = "/content/drive", *args: Any, **kwargs: Any) -> None:
        warn(f"drive.mount({mountpoint!r}) se omite al calificar / is skipped while grading")

    def upload(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(UPLOAD_ERROR)

    def download(filename: str = "", *args: Any, **kwargs: Any) -> None:
        warn(f"files.download({filename!r}) se omite al calificar / is skipped while grading")

    def secret(*args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(SECRETS_ERROR)

    drive = _module("google.colab.drive", "tfgrade stand-in", mount=mount, flush_and_unmount=_noop)
    files = _module("google.colab.files", "tfgrade stand-in", upload=upload, download=download)
    userdata = _module("google.colab.userdata", "tfgrade stand-in", get=secret)
    patches = _module("google.colab.patches", "tfgrade stand-in", cv2_imshow=_noop)
    output = _lenient_module("google.colab.output", "tfgrade stand-in")
    data_table = _lenient_module("google.colab.data_table", "tfgrade stand-in")
    colab = _module("google.colab", "tfgrade stand-in for Colab", drive=drive, files=files,
                    userdata=userdata, patches=patches, output=output, data_table=data_table)
    colab.__path__ = []  # a package, so `import google.colab.drive` resolves through sys.modules
    try:
        import google  # protobuf (TensorFlow) makes `google` a namespace package: keep it
    except ImportError:
        google = _module("google", "tfgrade stand-in namespace")
        google.__path__ = []
        sys.modules["google"] = google
    setattr(google, "colab", colab)  # noqa: B010 - `google` may be the real namespace package
    sys.modules["google.colab"] = colab
    for sub in (drive, files, userdata, patches, output, data_table):
        sys.modules[sub.__name__] = sub


def _install_ipython_display() -> None:
    """A minimal `IPython` when the real one is absent (`from IPython.display import clear_output`)."""
    if "IPython" in sys.modules or importlib.util.find_spec("IPython") is not None:
        return

    class _Rich:
        def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
            self.data = data

        def __repr__(self) -> str:
            return f"<{type(self).__name__}>"

    rich = {name: type(name, (_Rich,), {}) for name in
            ("HTML", "Image", "Markdown", "Javascript", "JSON", "Latex", "SVG", "Audio", "Video", "Math")}
    display_mod = _module("IPython.display", "tfgrade stand-in", display=_display, clear_output=_noop,
                          update_display=_noop, **rich)
    # Libraries (matplotlib, tqdm…) ask `IPython.get_ipython()` whether they run inside a
    # notebook: None tells them "plain Python", as the real IPython says outside a shell.
    getipython = _module("IPython.core.getipython", "tfgrade stand-in", get_ipython=_noop)
    core = _module("IPython.core", "tfgrade stand-in", display=display_mod, getipython=getipython)
    core.__path__ = []
    ipython = _module("IPython", "tfgrade stand-in", display=display_mod, core=core,
                      get_ipython=_noop, embed=_noop, version_info=(0, 0, 0), __version__="0.0")
    ipython.__path__ = []
    sys.modules.update({"IPython": ipython, "IPython.display": display_mod, "IPython.core": core,
                        "IPython.core.display": display_mod, "IPython.core.getipython": getipython})


def _agg_backend() -> None:
    """Plots must never open a window or block: Agg, whether matplotlib is loaded yet or not."""
    os.environ["MPLBACKEND"] = "Agg"
    warnings.filterwarnings("ignore", message=".*non-interactive.*cannot be shown")
    if "matplotlib" in sys.modules:
        # A half-imported or odd matplotlib may refuse: the environment variable still applies.
        with contextlib.suppress(Exception):
            sys.modules["matplotlib"].use("Agg", force=True)


def install_shims(warn: Callable[[str], None] | None = None) -> None:
    """Install every stand-in; `warn` receives one line per skipped Colab/IPython action."""
    say = warn or _default_warn
    _agg_backend()
    shell = _ShellStub(say)
    builtins.display = _display  # type: ignore[attr-defined]
    builtins.get_ipython = lambda: shell  # type: ignore[attr-defined]
    builtins.input = _no_input
    import getpass

    setattr(getpass, "getpass", _no_input)  # noqa: B010 - Colab's getpass() prompt: same clear error
    _install_google_colab(say)
    _install_ipython_display()
