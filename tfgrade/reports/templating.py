"""The Jinja environment of the reports: autoescape on, strict undefined, inline assets.

Templates live in the repository's `templates/` (a checkout) or in `tfgrade/_bundled/templates`
(an installed wheel, see pyproject.toml). Every page also carries a Content-Security-Policy
that allows no network access and only our own inline script (by hash): even if some text
escaped Jinja's escaping, a browser would refuse to run it.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from tfgrade.i18n import Lang
from tfgrade.reports.labels import labels

_PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = (_PACKAGE.parent / "templates", _PACKAGE / "_bundled" / "templates")

# The only script in a report: "expand all", open every <details> while printing, and sort
# the columns of a `table.sortable` (the class report's similarity table).
# It is optional: with scripts off, the report is complete and every <details> still works.
PAGE_SCRIPT = """(function () {
  var all = document.querySelectorAll("details");
  function setAll(open) { for (var i = 0; i < all.length; i++) { all[i].open = open; } }
  var button = document.getElementById("toggle-all");
  if (button && all.length) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-pressed") !== "true";
      setAll(open);
      button.setAttribute("aria-pressed", open ? "true" : "false");
      button.textContent = open ? button.dataset.collapse : button.dataset.expand;
    });
  }
  var before = [];
  window.addEventListener("beforeprint", function () {
    before = [];
    for (var i = 0; i < all.length; i++) { before.push(all[i].open); all[i].open = true; }
  });
  window.addEventListener("afterprint", function () {
    for (var i = 0; i < before.length; i++) { all[i].open = before[i]; }
  });
  var sortable = document.querySelectorAll("table.sortable");
  for (var s = 0; s < sortable.length; s++) {
    (function (table) {
      var buttons = table.querySelectorAll("thead button[data-col]");
      for (var b = 0; b < buttons.length; b++) {
        buttons[b].addEventListener("click", function () {
          var col = +this.dataset.col, num = this.dataset.kind === "num";
          var down = this.dataset.dir !== "descending";
          var th = table.querySelectorAll("thead th");
          for (var h = 0; h < th.length; h++) { th[h].removeAttribute("aria-sort"); }
          this.parentNode.setAttribute("aria-sort", down ? "descending" : "ascending");
          this.dataset.dir = down ? "descending" : "ascending";
          var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
          rows.sort(function (x, y) {
            var a = x.cells[col].dataset.value || x.cells[col].textContent;
            var c = y.cells[col].dataset.value || y.cells[col].textContent;
            var r = num ? (+a) - (+c) : a.localeCompare(c);
            return down ? -r : r;
          });
          for (var i = 0; i < rows.length; i++) { body.appendChild(rows[i]); }
        });
      }
    })(sortable[s]);
  }
})();"""


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    f"script-src '{_script_hash(PAGE_SCRIPT)}'; base-uri 'none'; form-action 'none'"
)


def template_dir() -> Path:
    for candidate in TEMPLATE_DIRS:
        if (candidate / "student_report.html.j2").is_file():
            return candidate
    raise FileNotFoundError(f"report templates not found in {', '.join(map(str, TEMPLATE_DIRS))}")


@lru_cache(maxsize=4)
def _cached_env(directory: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(directory), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def template_env(directory: Path | None = None) -> Environment:
    """The shared environment (templates compiled once per process)."""
    return _cached_env(str(directory or template_dir()))


def page_context(lang: Lang, title: str) -> dict[str, Any]:
    """What every page template receives besides its own view."""
    return {
        "lang": lang, "t": labels(lang), "page_title": title,
        "csp": CSP, "page_script": Markup(PAGE_SCRIPT),
    }
