"""Messages as data: a catalogue of keyed es/en templates, and number formatting in one place.

Each exercise has `messages.toml` beside its checks; the grader has its own
(`messages.toml` in this package). An entry is a table with one template per language:

```toml
[layer_units]
es = "capa {position}: se esperaban {want} unidades, hay {found}"
en = "layer {position}: expected {want} units, found {found}"
```

`Catalogue.msg(key, **values)` fills both templates and returns a `Msg` that remembers its
key (tests assert keys, not English words). Numbers are formatted by the language: with a
format spec (`{accuracy:.3f}`, `{n:,}`) Spanish gets a decimal comma and a thousands point
("0,812", "3265", "10.000": groups from five digits); so no check writes number formatting by hand. `problems()` is what
`tfgrade validate` asks: both languages present, the same placeholders in each.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tfgrade.errors import PackError
from tfgrade.i18n import LANGS, Lang, Msg

CATALOGUE_FILE = "messages.toml"


_SWAP = str.maketrans(",.", ".,")     # 3,265.5 -> 3.265,5


class LangFormatter(string.Formatter):
    """str.format, with numbers written the way `lang` writes them."""

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if self.lang == "es" and format_spec and isinstance(value, (int, float)) and not isinstance(value, bool):
            if abs(value) < 10_000:
                format_spec = format_spec.replace(",", "")     # Spanish groups from five digits: 3265, 10.000
            text = format(value, format_spec)
            return text.translate(_SWAP)
        return str(super().format_field(value, format_spec))


FORMATTERS: dict[Lang, LangFormatter] = {lang: LangFormatter(lang) for lang in LANGS}


def fmt(lang: Lang, template: str, /, **values: Any) -> str:
    return FORMATTERS[lang].format(template, **values)


def fields(template: str) -> set[str]:
    """The placeholder names a template uses."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name != "":
            names.add(name.split(".")[0].split("[")[0])
    return names


@dataclass(frozen=True)
class Catalogue:
    entries: Mapping[str, Mapping[str, str]]
    origin: str = ""

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls({}, str(path))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PackError(Msg(f"{path}: catálogo de mensajes ilegible ({exc})",
                                f"{path}: unreadable message catalogue ({exc})")) from exc
        entries = {str(k): {str(lang): str(t) for lang, t in v.items()} for k, v in data.items()
                   if isinstance(v, dict)}
        return cls(entries, str(path))

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def msg(self, key: str, /, **values: Any) -> Msg:
        entry = self.entries.get(key)
        if entry is None:
            raise KeyError(f"no message {key!r} in {self.origin or 'the catalogue'}")
        return Msg(fmt("es", entry["es"], **values), fmt("en", entry["en"], **values), key=key)

    __call__ = msg

    def problems(self) -> list[str]:
        """Entries missing a language, or whose languages use different placeholders."""
        out = []
        for key, entry in sorted(self.entries.items()):
            missing = [lang for lang in LANGS if not entry.get(lang)]
            if missing:
                out.append(f"message {key!r}: no {'/'.join(missing)} text")
                continue
            es, en = fields(entry["es"]), fields(entry["en"])
            if es != en:
                out.append(f"message {key!r}: placeholders differ (es {sorted(es)}, en {sorted(en)})")
        return out


def load_folder(folder: Path) -> Catalogue:
    """Every `*.toml` of a folder as one catalogue (one file per concern; a key may appear once)."""
    entries: dict[str, Mapping[str, str]] = {}
    for path in sorted(folder.glob("*.toml")):
        part = Catalogue.load(path)
        clash = set(part.entries) & set(entries)
        if clash:
            raise PackError(Msg(f"{path}: claves repetidas {sorted(clash)}", f"{path}: repeated keys {sorted(clash)}"))
        entries.update(part.entries)
    return Catalogue(entries, str(folder))


# The grader's own messages: tfgrade/messages/*.toml (one file per module that speaks).
GRADER = load_folder(Path(__file__).with_name("messages"))
