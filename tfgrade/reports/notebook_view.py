"""Notebooks out: a student's .ipynb as static HTML for the instructor, outputs kept, nothing live.

The student controls every byte of the notebook, outputs included, so the page must not run
a single script of theirs in the instructor's browser. Three layers, each enough on its own
for the classic vectors:
1. the notebook is cleaned before rendering: JavaScript and widget outputs are dropped,
   HTML outputs and markdown go through an allow-list sanitizer (bleach; escaped text when
   bleach is missing), SVG is shown through `<img>` (where its scripts never run), raw cells
   become plain text, cell/output metadata that reaches the template is dropped;
2. every `<script>` left in the page (the template's own loaders for require.js/MathJax) is
   removed;
3. a Content-Security-Policy forbids scripts, frames, forms and external loads outright.
Large outputs are replaced by a note so a 50 MB plot dump stays a readable page.
Trusted side: no TensorFlow, nothing is executed.
"""

from __future__ import annotations

import base64
import copy
import html
import re
import warnings
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import jinja2
from nbconvert import HTMLExporter

from tfgrade.intake.notebooks import read_notebook

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 200_000
MAX_HTML_CHARS = 1_000_000
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
_KEPT_TYPES = frozenset({"text/plain", "text/html", "text/markdown", "text/latex", *_IMAGE_TYPES})
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_ANY_SCRIPT = re.compile(r"<script\b.*?(</script\s*>|$)", re.IGNORECASE | re.DOTALL)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*$", re.IGNORECASE)

_ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
})


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Allow-list of attributes; URLs only where they cannot run or leak anything."""
    if name in ("class", "title", "align", "lang", "dir"):
        return True
    if name == "id":
        return tag in ("h1", "h2", "h3", "h4", "h5", "h6")  # heading anchors
    if tag == "img":
        if name == "src":
            return bool(_DATA_IMAGE.match(value))  # no remote image: no tracking, no local file
        return name in ("alt", "width", "height")
    if tag == "a" and name == "href":
        return value.startswith(("http://", "https://", "mailto:", "#"))
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan")
    return tag == "table" and name == "border"


def _bleach_cleaner() -> Callable[[str], str] | None:
    try:
        import bleach
    except ImportError:
        return None
    cleaner = bleach.Cleaner(tags=_ALLOWED_TAGS, attributes=_allowed_attribute,
                             protocols=["http", "https", "mailto", "data"], strip=True, strip_comments=True)
    clean: Callable[[str], str] = cleaner.clean
    return clean


_CLEAN = _bleach_cleaner()


def sanitize_html(fragment: str) -> str:
    """An HTML fragment reduced to inert markup (or escaped text when bleach is missing)."""
    if _CLEAN is None:
        return f"<pre>{html.escape(fragment)}</pre>"
    # Scripts and style sheets go with their content (bleach would keep it as visible text).
    return _CLEAN(_SCRIPT_OR_STYLE.sub("", fragment))


def _note(es: str, en: str) -> str:
    return f"[{es} / {en}]"


def _as_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _capped_text(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    dropped = len(text) - MAX_TEXT_CHARS
    return text[:MAX_TEXT_CHARS] + "\n" + _note(f"… {dropped} caracteres más omitidos", f"… {dropped} more characters omitted")


def _clean_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """One display_data/execute_result bundle, reduced to what renders inertly."""
    clean: dict[str, Any] = {}
    notes: list[str] = []
    for mime, value in data.items():
        if mime in _IMAGE_TYPES:
            encoded = _as_text(value)
            size = len(encoded) * 3 // 4
            if size > MAX_IMAGE_BYTES or not _BASE64.match(encoded):
                mb = f"{size / 1024 / 1024:.1f}"
                notes.append(_note(f"imagen de {mb} MB omitida (máximo 2 MB)", f"{mb} MB image omitted (2 MB limit)")
                              if size > MAX_IMAGE_BYTES else _note("imagen no válida omitida", "invalid image omitted"))
                continue
            clean[mime] = encoded
        elif mime == "image/svg+xml":
            svg = _as_text(value).encode("utf-8")
            if len(svg) > MAX_IMAGE_BYTES:
                notes.append(_note("imagen SVG grande omitida", "large SVG image omitted"))
                continue
            # Through <img>, an SVG's scripts and event handlers never run.
            clean["text/html"] = f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}" alt="svg">'
        elif mime == "text/html":
            fragment = _as_text(value)
            if len(fragment) > MAX_HTML_CHARS:
                notes.append(_note("salida HTML grande omitida", "large HTML output omitted"))
                continue
            clean.setdefault("text/html", sanitize_html(fragment))
        elif mime in ("text/plain", "text/markdown", "text/latex"):
            clean[mime] = _capped_text(_as_text(value))
        elif "javascript" in mime or "widget" in mime:
            notes.append(_note("salida interactiva (JavaScript/widget) omitida", "interactive output (JavaScript/widget) omitted"))
    if notes and "text/plain" not in clean:
        clean["text/plain"] = "\n".join(notes)
    elif notes:
        clean["text/plain"] = clean["text/plain"] + "\n" + "\n".join(notes)
    if not any(mime in _KEPT_TYPES for mime in clean):
        clean["text/plain"] = _note("salida omitida", "output omitted")
    return clean


def _image_size_metadata(metadata: Any) -> dict[str, Any]:
    """Only integer width/height survive: the template writes them into attributes."""
    kept: dict[str, Any] = {}
    if not isinstance(metadata, dict):
        return kept
    for mime in _IMAGE_TYPES:
        sizes = metadata.get(mime)
        if isinstance(sizes, dict):
            ints = {k: int(v) for k, v in sizes.items() if k in ("width", "height") and isinstance(v, int | float)}
            if ints:
                kept[mime] = ints
    return kept


def _clean_output(output: dict[str, Any]) -> dict[str, Any]:
    kind = output.get("output_type")
    if kind == "stream":
        return {"output_type": "stream", "name": "stderr" if output.get("name") == "stderr" else "stdout",
                "text": _capped_text(_as_text(output.get("text", "")))}
    if kind == "error":
        traceback = [str(line) for line in output.get("traceback", [])][:200]
        return {"output_type": "error", "ename": str(output.get("ename", ""))[:200],
                "evalue": _capped_text(str(output.get("evalue", ""))), "traceback": traceback}
    if kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        clean = {"output_type": kind, "data": _clean_bundle(data if isinstance(data, dict) else {}),
                 "metadata": _image_size_metadata(output.get("metadata"))}
        if kind == "execute_result":
            count = output.get("execution_count")
            clean["execution_count"] = count if isinstance(count, int) else None
        return clean
    return {"output_type": "stream", "name": "stdout", "text": _note("salida desconocida omitida", "unknown output omitted")}


def _clean_notebook(nb: Any) -> Any:
    """A copy of the notebook with only inert content left in it."""
    nb = copy.deepcopy(nb)
    nb.metadata = {key: nb.metadata[key] for key in ("kernelspec", "language_info") if key in nb.metadata}
    for cell in nb.cells:
        cell.metadata = {}
        cell.pop("attachments", None)  # attachment images in markdown: dropped rather than audited
        if cell.cell_type == "raw":
            # Raw cells are written into the page verbatim: turn them into an indented code block.
            cell.cell_type = "markdown"
            cell.source = "\n".join("    " + line for line in cell.source.split("\n"))
        elif cell.cell_type == "code":
            cell.outputs = [_clean_output(out) for out in cell.get("outputs", []) if isinstance(out, dict)]
    return nb


class _SanitizingHTMLExporter(HTMLExporter):
    """nbconvert's exporter whose markdown (cells and outputs) goes through our sanitizer."""

    @jinja2.pass_context
    def markdown2html(self, context: Any, source: str) -> str:
        return sanitize_html(super().markdown2html(context, source))


class _ActiveContentFinder(HTMLParser):
    """Lists what could run or load something in a page: used as the final assertion."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "frame", "frameset", "form", "base", "applet"):
            self.found.append(f"<{tag}>")
        if tag == "meta" and any(k == "http-equiv" and (v or "").lower() == "refresh" for k, v in attrs):
            self.found.append("<meta refresh>")
        for name, value in attrs:
            text = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in ("href", "src", "action", "formaction", "xlink:href") and text.startswith(("javascript:", "vbscript:")):
                self.found.append(f"<{tag} {name}=javascript:…>")
            elif name == "src" and tag != "img" and text:
                self.found.append(f"<{tag} src=…>")
            elif name == "src" and tag == "img" and not text.startswith("data:"):
                self.found.append("<img src=remote>")
            elif tag == "link" and name == "href" and not text.startswith("data:"):
                self.found.append("<link href=remote>")


def find_active_content(page: str) -> list[str]:
    """Every element or attribute in `page` that could run script or load from outside."""
    finder = _ActiveContentFinder()
    finder.feed(page)
    finder.close()
    return finder.found


def render_notebook_html(data: bytes, *, title: str = "notebook") -> str:
    """The notebook as one self-contained, script-free HTML page (lab look, outputs kept)."""
    nb, _ = read_notebook(data, title)
    exporter = _SanitizingHTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab", embed_images=False, sanitize_html=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pygments' "IPython3 lexer unavailable" and the like
        body, _ = exporter.from_notebook_node(_clean_notebook(nb), resources={"metadata": {"name": title}})
    body = _ANY_SCRIPT.sub("", body)
    csp = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    body, replaced = re.subn(r"<head>", "<head>\n" + csp, body, count=1, flags=re.IGNORECASE)
    if not replaced:
        body = csp + body
    leftovers = find_active_content(body)
    if leftovers:  # never expected: a template change or a sanitizer gap; refuse to hand it out
        raise RuntimeError(f"rendered notebook still has active content: {leftovers[:5]}")
    return body
