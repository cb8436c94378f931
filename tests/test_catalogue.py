"""Messages as data: catalogues, number formatting by language, and what validate checks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tfgrade.catalogue import GRADER, Catalogue, fmt
from tfgrade.checklib.phrases import fill, framed, joined
from tfgrade.engine.validate import pack_problems
from tfgrade.engine.verdicts import CheckFailed, fail
from tfgrade.i18n import Msg
from tfgrade.pack.course import Exercise

ENTRY = '''
[layer_units]
es = "capa {position}: se esperaban {want:,} unidades, hay {found}; exactitud {acc:.3f}"
en = "layer {position}: expected {want:,} units, found {found}; accuracy {acc:.3f}"
'''


def _cat(tmp_path: Path, text: str) -> Catalogue:
    path = tmp_path / "messages.toml"
    path.write_text(text, encoding="utf-8")
    return Catalogue.load(path)


def test_numbers_are_written_as_each_language_writes_them(tmp_path: Path) -> None:
    msg = _cat(tmp_path, ENTRY).msg("layer_units", position=1, want=3265, found="16", acc=0.8125)
    assert msg.es == "capa 1: se esperaban 3265 unidades, hay 16; exactitud 0,812"    # no grouping below 5 digits
    assert msg.en == "layer 1: expected 3,265 units, found 16; accuracy 0.812"
    assert msg.key == "layer_units"
    assert fmt("es", "{x}", x="v1.2") == "v1.2"          # text is never touched, only numbers with a spec
    assert fmt("es", "{n:,}", n=100000) == "100.000" and fmt("en", "{n:,}", n=100000) == "100,000"


def test_the_key_travels_with_the_verdict_and_the_json(tmp_path: Path) -> None:
    msg = _cat(tmp_path, ENTRY)("layer_units", position=2, want=1, found=3, acc=1.0)
    with pytest.raises(CheckFailed) as info:
        fail(msg, expected=1, found=3)
    assert info.value.msg.key == "layer_units"
    assert Msg.from_json(msg.to_json()).key == "layer_units"
    assert Msg.from_json(msg.to_json()) == msg


def test_a_verdict_is_not_an_exception_a_check_can_swallow() -> None:
    try:
        try:
            fail(es="mal", en="wrong")
        except Exception:  # noqa: BLE001 - what a careless check writes
            pytest.fail("the verdict was swallowed")
    except CheckFailed as verdict:
        assert verdict.msg.en == "wrong"


def test_checks_cannot_set_verdict_signals_through_details() -> None:
    with pytest.raises(ValueError, match="reserved"):
        fail(es="x", en="x", tampering="forged")


def test_problems_name_missing_languages_and_placeholder_mismatches(tmp_path: Path) -> None:
    cat = _cat(tmp_path, '[a]\nes = "hola {x}"\n[b]\nes = "{n} filas"\nen = "{m} rows"\n')
    problems = cat.problems()
    assert any("'a'" in p and "en" in p for p in problems)
    assert any("'b'" in p and "placeholders differ" in p for p in problems)
    with pytest.raises(KeyError):
        cat.msg("nope")


def test_validate_reports_a_key_used_by_checks_but_missing(tmp_path: Path) -> None:
    folder = tmp_path / "ex99"
    folder.mkdir()
    (folder / "exercise.toml").write_text('id = "ex99"\n[checks.one]\npoints = 1\n', encoding="utf-8")
    (folder / "checks.py").write_text(
        "def test_one(messages):\n    raise AssertionError(messages('missing_key'))\n", encoding="utf-8")
    (folder / "messages.toml").write_text('[other]\nes = "x"\nen = "x"\n', encoding="utf-8")
    problems = pack_problems(Exercise.from_folder(folder))
    assert problems == ["messages('missing_key') is not in messages.toml"]


def test_every_bundled_catalogue_is_complete() -> None:
    root = Path(__file__).resolve().parent.parent / "exercises"
    for folder in sorted(p for p in root.iterdir() if (p / "exercise.toml").is_file()):
        assert pack_problems(Exercise.from_folder(folder)) == [], folder.name
    assert GRADER.problems() == []


def _keys_named(path: Path) -> list[tuple[str, str]]:
    """(catalogue, key) for each key a module names: `messages("k")` and `GRADER("k")` (validate
    sees the first), and the catalogue-first helpers `fill(messages, "k", …)`, `framed(GRADER, "k", …)`;
    a key chosen by a lookup counts through its constants (`messages(TABLE.get(d, "k"))`)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func, args = node.func, node.args
        if isinstance(func, ast.Attribute) and func.attr == "msg":
            func = func.value
        if isinstance(func, ast.Name) and func.id in ("messages", "GRADER"):
            which, named = func.id, args[:1]
        elif args and isinstance(args[0], ast.Name) and args[0].id in ("messages", "GRADER"):
            which, named = args[0].id, args[1:2]
        else:
            continue
        out += [(which, c.value) for arg in named for c in ast.walk(arg)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return out


def test_every_key_the_checks_and_helpers_name_exists() -> None:
    root = Path(__file__).resolve().parent.parent
    missing = []
    for path in sorted([*(root / "tfgrade").rglob("*.py"), *(root / "exercises").glob("*/checks.py")]):
        local = Catalogue.load(path.with_name("messages.toml"))
        for which, key in _keys_named(path):
            if key not in (GRADER if which == "GRADER" else local):
                missing.append(f"{path.relative_to(root)}: {which}({key!r})")
    assert missing == []


def test_problems_combine_in_each_language_and_keep_the_first_problems_key(tmp_path: Path) -> None:
    cat = _cat(tmp_path, '[at]\nes = "capa {position}: {problems}"\nen = "layer {position}: {problems}"\n'
                         '[units]\nes = "se esperaban {n:,} unidades"\nen = "expected {n:,} units"\n'
                         '[an]\nes = "un"\nen = "an"\n'
                         '[typed]\nes = "se esperaba {article} Placeholder int16"\nen = "expected {article} int16 Placeholder"\n')
    problems = joined([cat("units", n=1024), fill(cat, "typed", article=cat("an"))])
    msg = framed(cat, "at", problems, position=2)
    assert msg.es == "capa 2: se esperaban 1024 unidades; se esperaba un Placeholder int16"
    assert msg.en == "layer 2: expected 1,024 units; expected an int16 Placeholder"
    assert msg.key == "units"
