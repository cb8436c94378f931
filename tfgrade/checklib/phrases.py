"""Putting catalogue messages together: a list of problems joined in one place, and a
message already in both languages placed inside a template.

Checks build feedback from keyed templates (tfgrade.catalogue); a check that finds several
problems collects them as `Msg`s and joins them here, so no check writes the same list
twice, once per language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from tfgrade.catalogue import Catalogue, fmt
from tfgrade.i18n import LANGS, Msg


def join(msgs: Iterable[Msg], sep: str | Msg = "; ") -> Msg:
    """The messages one after the other, `sep` between them (a `Msg` for a word: " o " /
    " or "), in each language. The joined text has no key of its own: the message it is
    placed in, or put after, names it."""
    items = list(msgs)
    between = sep if isinstance(sep, Msg) else Msg(sep, sep)
    return Msg(between.es.join(m.es for m in items), between.en.join(m.en for m in items))


def verbatim(text: str) -> Msg:
    """Text that reads the same in every language: a name in code, a loss, a layer type."""
    return Msg(text, text)


def fill(catalogue: Catalogue, key: str, /, **values: Any) -> Msg:
    """`catalogue.msg(key, **values)`, where a `Msg` value is written in each language's own
    words (a measured metric, a noun phrase that an exercise supplies)."""
    if not any(isinstance(v, Msg) for v in values.values()):
        return catalogue.msg(key, **values)
    entry = catalogue.entries.get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in {catalogue.origin or 'the catalogue'}")
    es, en = (fmt(lang, entry[lang], **{k: v.get(lang) if isinstance(v, Msg) else v for k, v in values.items()})
              for lang in LANGS)
    return Msg(es, en, key=key)


def sentence(msg: Msg) -> Msg:
    """The message as a sentence of its own: with a full stop at its end (a note that a
    helper wrote without one, put before the hints)."""
    return Msg(msg.es.rstrip(".") + ".", msg.en.rstrip(".") + ".", key=msg.key)


def joined(parts: Sequence[Msg], sep: str = "; ") -> Msg:
    """Several problems told in one message. It keeps the first problem's key: a test or a
    report names what is wrong (what to fix first), not how the sentence is put together."""
    if not parts:
        raise ValueError("joined() needs at least one message")
    return Msg(sep.join(p.es for p in parts), sep.join(p.en for p in parts), key=parts[0].key)


def framed(catalogue: Catalogue, key: str, problems: Msg, /, **values: Any) -> Msg:
    """`problems` inside the entry `key` (its `{problems}` placeholder: "layer {position}:
    {problems}", "{problems}. Expected {call}"); the result keeps the problems' key."""
    msg = fill(catalogue, key, problems=problems, **values)
    return replace(msg, key=problems.key or key)
