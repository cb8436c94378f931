"""Pack API: `tfgrade.student` is `tfgrade.engine.proxy` (StudentError, CallInfo (the student fixture's types)).

Exercise packs import this stable name (docs/CHECKS.md); the module itself lives where the
layout puts it. The alias is the same module object, not a copy.
"""

import sys

from tfgrade.engine import proxy as _module

sys.modules[__name__] = _module
