"""The course file's optional `[leaderboard]` table.

```toml
[leaderboard]
enabled = true                       # default true once the table is there
exercises = ["ex06_diabetes_mlp"]    # default: every exercise that reports a held-out metric
public_share = 0.5                   # share of the held-out rows that are public (0 < x < 1)
names = "chosen"                     # "chosen": LEADERBOARD_NAME from the source, else generated
salt = "a long private text"         # optional key of the generated names (default: the seed)
```

The public rows are a fixed partition drawn from the course seed and the exercise
(tfgrade.checklib.learning.public_rows): a student never chooses them. The board itself is
built in tfgrade.reports.leaderboard.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tfgrade.catalogue import GRADER
from tfgrade.errors import PackError

NameMode = Literal["chosen", "generated"]
KEYS = ("enabled", "exercises", "public_share", "names", "salt")
MIN_SALT = 8


@functools.cache
def held_out_exercises() -> tuple[str, ...]:
    """The exercises whose checks report a held-out metric: those with a dataset."""
    from tfgrade.pack.datasets import SPECS  # local: pandas is slow to import

    return tuple(sorted(SPECS))


@dataclass(frozen=True)
class LeaderboardConfig:
    enabled: bool = True
    exercises: tuple[str, ...] | None = None     # None: every exercise with a held-out metric
    public_share: float = 0.5
    names: NameMode = "chosen"
    salt: str | None = None

    def shows(self, exercise_id: str) -> bool:
        """On the board: a configured exercise, or by default one that reports a held-out metric."""
        return exercise_id in (held_out_exercises() if self.exercises is None else self.exercises)

    def to_json(self) -> dict[str, Any]:
        """What OUT/leaderboard.json keeps (never the salt)."""
        return {"enabled": self.enabled, "exercises": list(self.exercises) if self.exercises is not None else None,
                "public_share": self.public_share, "names": self.names}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LeaderboardConfig:
        return cls.from_table({k: v for k, v in data.items() if k in KEYS and v is not None})

    @classmethod
    def from_table(cls, table: Any) -> LeaderboardConfig:
        """The table as read by tomllib; a bad value is a PackError that says which and why."""
        if not isinstance(table, Mapping):
            raise PackError(GRADER("leaderboard_not_a_table", found=type(table).__name__))
        unknown = sorted(set(map(str, table)) - set(KEYS))
        if unknown:
            raise PackError(GRADER("leaderboard_unknown_keys", names=", ".join(unknown), allowed=", ".join(KEYS)))
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise PackError(GRADER("leaderboard_bad_enabled", found=repr(enabled)))
        exercises = table.get("exercises")
        if exercises is not None:
            if not isinstance(exercises, list) or not all(isinstance(e, str) for e in exercises) or not exercises:
                raise PackError(GRADER("leaderboard_bad_exercises", found=repr(exercises)))
            known = held_out_exercises()
            odd = [e for e in exercises if e not in known]
            if odd:
                raise PackError(GRADER("leaderboard_unknown_exercises", names=", ".join(odd), known=", ".join(known)))
            exercises = tuple(dict.fromkeys(exercises))
        share = table.get("public_share", 0.5)
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 < float(share) < 1.0:
            raise PackError(GRADER("leaderboard_bad_share", found=repr(share)))
        names = table.get("names", "chosen")
        if names not in ("chosen", "generated"):
            raise PackError(GRADER("leaderboard_bad_names", found=repr(names)))
        salt = table.get("salt")
        if salt is not None and not isinstance(salt, str):
            raise PackError(GRADER("leaderboard_bad_salt", found=type(salt).__name__))
        if salt is not None and len(salt) < MIN_SALT:
            raise PackError(GRADER("leaderboard_short_salt", want=MIN_SALT, n=len(salt)))
        return cls(enabled=enabled, exercises=exercises, public_share=float(share),
                   names="chosen" if names == "chosen" else "generated", salt=salt)


def leaderboard_of(config: Mapping[str, Any]) -> LeaderboardConfig | None:
    """The course's leaderboard: None without a `[leaderboard]` table or with enabled = false."""
    if "leaderboard" not in config:
        return None
    parsed = LeaderboardConfig.from_table(config["leaderboard"])
    return parsed if parsed.enabled else None
