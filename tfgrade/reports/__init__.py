"""Reports and exports, built only from result objects (tfgrade.engine.results).

- student_report: OUT/reports/<student>.html (one self-contained file per student)
- class_report: OUT/index.html
- gradebook: gradebook.csv / .xlsx · lms: Moodle and Canvas import CSVs · gradescope: results.json
- render: `render_all` / `main_report`, the back end of `tfgrade report OUT`
"""

from tfgrade.reports.gradebook import write_gradebook
from tfgrade.reports.gradescope import build_gradescope_bundle, to_gradescope
from tfgrade.reports.render import main_report, render_all

__all__ = ["build_gradescope_bundle", "main_report", "render_all", "to_gradescope", "write_gradebook"]
