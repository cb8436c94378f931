"""tfgrade: a tamper-proof grader for the TensorFlow 2 course.

In a notebook (Jupyter, Colab): `%load_ext tfgrade`, then `%tfgrade check ex02_sequential`
or `tfgrade.check("ex02_sequential")` grades the cells run so far (`tfgrade.notebook_check`).
Importing the package stays light: the grader is imported only when one of these is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tfgrade.i18n import Lang
    from tfgrade.notebook_check import NotebookResult

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext tfgrade`: the `%tfgrade check <exercise> [--lang es|en]` magic."""
    from tfgrade.notebook_check import load_ipython_extension as load

    load(ipython)


def check(exercise_id: str, lang: Lang | None = None) -> NotebookResult:
    """In a notebook: grade the cells run so far against the exercise's visible checks, show
    the ✓/✗ table in the cell's output and return the result."""
    from tfgrade.notebook_check import check as check_cells

    return check_cells(exercise_id, lang)
