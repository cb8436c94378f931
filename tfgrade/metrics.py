"""Pack API: `tfgrade.metrics` is `tfgrade.pack.metrics` (accuracy, errors, partial credit).

Exercise packs import this stable name (docs/CHECKS.md); the module itself lives where the
layout puts it. The alias is the same module object, not a copy.
"""

import sys

from tfgrade.pack import metrics as _module

sys.modules[__name__] = _module
