"""Writes the fixture notebooks of tests/test_notebooks.py (run: .venv/bin/python tests/notebooks/make_fixtures.py).

The .ipynb files next to this script are its committed output; a test regenerates them and
checks they are unchanged, so edit this script, never the notebooks. Cell ids are fixed so
the output is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

HERE = Path(__file__).resolve().parent


def _notebook(*cells: Any) -> Any:
    for number, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{number}"
    return new_notebook(cells=list(cells), metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})


def magics() -> Any:
    return _notebook(
        new_markdown_cell("# Magias de IPython"),
        new_code_cell("%matplotlib inline\n%load_ext autoreload\n%autoreload 2\nimport math\n"
                      "%time value = math.sqrt(16)\ntimed = %time math.sqrt(9)\n%timeit -n 1 -r 1 math.sqrt(4)"),
        new_code_cell("%%time\ndef after_time():\n    return 'time'"),
        new_code_cell("%%capture\nprint('hidden')\ncaptured = 1"),
        new_code_cell("%%bash\necho hola\nrm -rf /"),
        new_markdown_cell("Celdas que no son Python"),
        new_code_cell("%%writefile helper.py\ndef nope():\n    pass"),
        new_code_cell("!pip install tensorflow==2.15\nfiles = !ls\n%cd /tmp\nlen?\nfor i in range(2):\n"
                      "    !echo {i}\nwho = %who_ls\ntext = '''\n!not a shell line\n%not a magic\n'''"),
        new_code_cell("  def indented_cell():\n      return text\n  uses = indented_cell()"),
    )


def colab() -> Any:
    return _notebook(
        new_code_cell("from google.colab import drive, files\ndrive.mount('/content/drive')"),
        new_code_cell("with open('/content/drive/MyDrive/datos.csv') as f:\n    data = f.read()"),
        new_code_cell("def after_drive():\n    return 'ok'"),
        new_code_cell("uploaded = files.upload()"),
        new_code_cell("files.download('modelo.h5')\nfrom IPython.display import clear_output, display\n"
                      "clear_output()\ndisplay({'a': 1})\nget_ipython().run_line_magic('matplotlib', 'inline')\n"
                      "IN_COLAB = 'google.colab' in str(get_ipython())"),
    )


def failing_cell() -> Any:
    return _notebook(
        new_code_cell("def before():\n    return 1"),
        new_code_cell("x = 1\nraise ValueError('boom en la celda 2')"),
        new_markdown_cell("Más funciones después del error"),
        new_code_cell("def after():\n    return before() + 1"),
        new_code_cell("name = input('¿Cómo te llamas? ')"),
        new_code_cell("def helper_fails():\n    return 1 / 0"),
        new_code_cell("helper_fails()"),
        new_code_cell("def broken(:\n    pass"),
        new_code_cell("import sys\nsys.exit(3)"),
        new_code_cell("def last():\n    return 'still here'\n\n"
                      "text = '''línea 1\n    línea 2 sin tocar\n'''"),
    )


def empty() -> Any:
    return _notebook()


def markdown_only() -> Any:
    return _notebook(new_markdown_cell("# Sin código"), new_code_cell(""), new_code_cell("   \n"))


def version_4_5() -> Any:
    return _notebook(new_markdown_cell("# v4.5"), new_code_cell("def answer():\n    return 45"))


def version_4_0() -> dict[str, Any]:
    """Written by hand: nbformat always writes the newest minor (ids, 4.5)."""
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# v4.0\n", "sin ids de celda"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {"collapsed": False},
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["40\n"]}],
             "source": ["def answer():\n", "    return 40\n", "print(answer())"]},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 2", "language": "python", "name": "python2"}},
        "nbformat": 4, "nbformat_minor": 0,
    }


def schema_invalid() -> dict[str, Any]:
    """A code cell without metadata nor outputs and with a key the schema forbids: Jupyter
    opens it with a warning, so do we."""
    return {"cells": [{"cell_type": "code", "id": "cell-1", "execution_count": None, "extra": 1,
                       "source": "def answer():\n    return 'sin metadatos'"}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def tiny_tf() -> Any:
    return _notebook(
        new_code_cell("%tensorflow_version 2.x\n!pip install -q tensorflow"),
        new_code_cell("import tensorflow as tf\nfrom tensorflow import keras"),
        new_code_cell("def build_model():\n    model = keras.Sequential([\n        keras.Input(shape=(100,)),\n"
                      "        keras.layers.Dense(32, activation='relu'),\n"
                      "        keras.layers.Dense(1, activation='sigmoid'),\n    ])\n"
                      "    model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['accuracy'])\n"
                      "    return model"),
        new_code_cell("model = build_model()\nmodel.fit(x_train, y_train, epochs=3)"),
    )


XSS_HTML = "<script>alert(1)</script><img src=x onerror=alert(1)><b>negrita</b>"
MARKER_HTML = ("<script>document.title='PW'+'NED'</script>"
               "<img src=x onerror=\"document.body.setAttribute('data-pwned','PW'+'NED')\">")


def xss_outputs() -> Any:
    code = new_code_cell("from IPython.display import HTML, Javascript, display\ndisplay(HTML(payload))")
    code.outputs = [
        new_output("display_data", data={"text/html": XSS_HTML, "text/plain": "<HTML>"}),
        new_output("display_data", data={"text/html": MARKER_HTML, "text/plain": "<HTML>"}),
        new_output("display_data", data={"application/javascript": "alert(1)", "text/plain": "<Javascript>"}),
        new_output("display_data", data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' "
                                         "onload='alert(1)'><script>alert(1)</script></svg>"}),
        new_output("display_data", data={"text/markdown": "**md** <img src=x onerror=alert(1)> [enlace](javascript:alert(1))"}),
        new_output("stream", name="stdout", text="<script>alert(1)</script>\n"),
        new_output("error", ename="ValueError", evalue="<img src=x onerror=alert(1)>",
                   traceback=["\x1b[31mValueError\x1b[0m: <img src=x onerror=alert(1)>"]),
    ]
    raw = new_raw_cell("<script>alert(1)</script><img src=x onerror=alert(1)>")
    raw.metadata["raw_mimetype"] = "text/html"
    return _notebook(new_markdown_cell("# Salidas hostiles\n\n<img src=x onerror=alert(1)>\n\n"
                                       "<script>alert(1)</script>\n\n[x](javascript:alert(1))"), code, raw)


def fixtures() -> dict[str, bytes]:
    """Every fixture file name → its exact bytes."""
    notebooks = {
        "magics.ipynb": magics(), "colab.ipynb": colab(), "failing_cell.ipynb": failing_cell(),
        "empty.ipynb": empty(), "markdown_only.ipynb": markdown_only(), "v4_5.ipynb": version_4_5(),
        "tiny_tf.ipynb": tiny_tf(), "xss_outputs.ipynb": xss_outputs(),
    }
    files = {name: nbformat.writes(nb).encode("utf-8") + b"\n" for name, nb in notebooks.items()}
    for name, obj in {"v4_0.ipynb": version_4_0(), "schema_invalid.ipynb": schema_invalid()}.items():
        files[name] = (json.dumps(obj, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    files["not_json.ipynb"] = b"esto no es JSON {\n"
    files["not_notebook.ipynb"] = b'{"hola": "mundo"}\n'
    files["cells_not_list.ipynb"] = b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": "x"}\n'
    files["nbformat_5.ipynb"] = b'{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}\n'
    return files


def main() -> None:
    for name, data in fixtures().items():
        (HERE / name).write_bytes(data)
        print(f"wrote tests/notebooks/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
