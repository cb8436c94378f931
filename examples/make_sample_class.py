"""Build the sample class of `make demo` from examples/sample_class.toml (stdlib only).

    python examples/make_sample_class.py OUT_DIR
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(manifest: Path, out: Path) -> list[str]:
    spec = tomllib.loads(manifest.read_text(encoding="utf-8"))
    if out.exists():
        shutil.rmtree(out)
    for student, entry in spec["students"].items():
        folder = out / student
        folder.mkdir(parents=True)
        for f in entry["files"]:
            text = (ROOT / f["from"]).read_text(encoding="utf-8") if "from" in f else f["text"]
            text = f.get("prepend", "") + text
            (folder / f["name"]).write_bytes(text.encode(f.get("encoding", "utf-8")))
    return sorted(spec["students"])


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "build/sample_class")
    names = build(ROOT / "examples" / "sample_class.toml", target)
    print(f"{len(names)} students in {target}: {', '.join(names)}")
