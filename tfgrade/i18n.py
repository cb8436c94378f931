"""Bilingual text: every message a student sees exists in Spanish and English."""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")


@dataclass(frozen=True)
class Msg:
    """One message in both course languages; `key` names its catalogue entry, if it has one
    (tfgrade.catalogue), so that tests and reports can refer to it without its words."""

    es: str
    en: str
    key: str | None = field(default=None, compare=False)

    def get(self, lang: Lang) -> str:
        return self.es if lang == "es" else self.en

    def to_json(self) -> dict[str, str]:
        out = {"es": self.es, "en": self.en}
        if self.key:
            out["key"] = self.key
        return out

    @classmethod
    def from_json(cls, data: object) -> Msg:
        if isinstance(data, dict):
            key = data.get("key")
            return cls(str(data.get("es", "")), str(data.get("en", "")), str(key) if key else None)
        return cls(str(data), str(data))

    def __add__(self, other: Msg) -> Msg:
        return Msg(self.es + other.es, self.en + other.en, self.key or other.key)


def default_lang() -> Lang:
    """Language from TFGRADE_LANG, then LANG/LC_ALL; Spanish is the course default."""
    for var in ("TFGRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "es"
    loc = locale.getlocale()[0] or ""
    return "en" if loc.lower().startswith("en") else "es"
