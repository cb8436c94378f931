"""Pack API: `tfgrade.specs` is `tfgrade.engine.returned` (what student.call returns (ModelHandle, GraphSpec, TensorValue, …)).

Exercise packs import this stable name (docs/CHECKS.md); the module itself lives where the
layout puts it. The alias is the same module object, not a copy.
"""

import sys

from tfgrade.engine import returned as _module

sys.modules[__name__] = _module
