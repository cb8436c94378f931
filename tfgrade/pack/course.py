"""The exercise pack (data, not code) and the course configuration.

An instructor adds an exercise by adding a folder to the pack. The bundled pack is found in
a checkout (`<repo>/exercises`) or inside an installed wheel (`tfgrade/_bundled/exercises`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from tfgrade.catalogue import CATALOGUE_FILE, Catalogue
from tfgrade.errors import PackError, UnknownExercise
from tfgrade.i18n import Msg
from tfgrade.pack.leaderboard import LeaderboardConfig, leaderboard_of
from tfgrade.policy.deadline import DeadlinePolicy

PACKAGE_DIR = Path(__file__).resolve().parent.parent     # the tfgrade package


def bundled_dir(name: str) -> Path:
    """`exercises`, `solutions` or `templates`: from a checkout first, then from the wheel."""
    for candidate in (PACKAGE_DIR.parent / name, PACKAGE_DIR / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise PackError(Msg(f"no se encontró la carpeta '{name}' del paquete",
                        f"the bundled '{name}' folder was not found"))


@dataclass(frozen=True)
class CheckSpec:
    id: str
    points: float
    hidden: bool
    title: Msg
    requires: str | None = None     # "gpu": the check only applies on a machine with a GPU


@dataclass(frozen=True)
class ExerciseLimits:
    call_timeout_s: float = 60.0
    train_timeout_s: float = 120.0
    memory_mb: int = 4096


@dataclass(frozen=True)
class Exercise:
    id: str
    title: Msg
    folder: Path
    entry_points: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    params: dict[str, Any]
    limits: ExerciseLimits
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def checks_file(self) -> Path:
        return self.folder / "checks.py"

    @property
    def starter_file(self) -> Path:
        return self.folder / "starter.py"

    def statement(self, lang: str) -> Path:
        return self.folder / f"statement.{lang}.md"

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def hidden_points(self) -> float:
        return sum(c.points for c in self.checks if c.hidden)

    @property
    def messages(self) -> Catalogue:
        """The exercise's message catalogue (messages.toml beside checks.py)."""
        return Catalogue.load(self.folder / CATALOGUE_FILE)

    def check(self, check_id: str) -> CheckSpec | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @classmethod
    def from_folder(cls, folder: Path) -> Exercise:
        toml_path = folder / "exercise.toml"
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PackError(Msg(f"{toml_path}: no se puede leer ({exc})", f"{toml_path}: cannot be read ({exc})")) from None
        try:
            checks = tuple(
                CheckSpec(id=cid, points=float(c["points"]), hidden=bool(c.get("hidden", False)),
                          title=Msg(str(c.get("title_es", cid)), str(c.get("title_en", cid))),
                          requires=str(c["requires"]) if c.get("requires") else None)
                for cid, c in data.get("checks", {}).items())
            limits = ExerciseLimits(**{k: v for k, v in data.get("limits", {}).items()
                                       if k in ExerciseLimits.__dataclass_fields__})
            return cls(
                id=str(data.get("id", folder.name)),
                title=Msg(str(data.get("title_es", folder.name)), str(data.get("title_en", folder.name))),
                folder=folder, entry_points=tuple(data.get("entry_points", [])), checks=checks,
                params=dict(data.get("params", {})), limits=limits, data=dict(data.get("data", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise PackError(Msg(f"{toml_path}: formato inválido ({exc})", f"{toml_path}: invalid format ({exc})")) from None


@dataclass(frozen=True)
class Course:
    exercises: tuple[Exercise, ...]
    pack_dir: Path
    seed: int = 20251127
    datasets: dict[str, dict[str, Any]] = field(default_factory=dict)   # instructor overrides
    limits_override: dict[str, Any] = field(default_factory=dict)
    deadline: DeadlinePolicy | None = None      # [deadline]: late policy (tfgrade.policy.deadline)
    leaderboard: LeaderboardConfig | None = None       # [leaderboard] (tfgrade.pack.leaderboard)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.exercises)

    def get(self, exercise_id: str) -> Exercise:
        for e in self.exercises:
            if e.id == exercise_id:
                return e
        raise UnknownExercise(Msg(
            f"'{exercise_id}' no es un ejercicio. Válidos: {', '.join(self.ids)}",
            f"'{exercise_id}' is not an exercise. Valid ones: {', '.join(self.ids)}"))

    def exercise_for_file(self, path: Path) -> Exercise:
        """The exercise a file answers, from its name (`ex02_sequential.py`, `…ipynb`)."""
        from tfgrade.intake.matching import match_exercise

        found = match_exercise(path.name, self.ids)
        if found is None:
            raise UnknownExercise(Msg(
                f"'{path.name}' no corresponde a ningún ejercicio: nómbralo <id>.py o <id>.ipynb. "
                f"Ejercicios válidos: {', '.join(self.ids)}",
                f"'{path.name}' matches no exercise: name it <id>.py or <id>.ipynb. "
                f"Valid exercises: {', '.join(self.ids)}"))
        return self.get(found)

    @classmethod
    def load(cls, pack_dir: Path | None = None, config: Path | None = None) -> Course:
        pack = Path(pack_dir) if pack_dir else Path(os.environ.get("TFGRADE_PACK") or bundled_dir("exercises"))
        if not pack.is_dir():
            raise PackError(Msg(f"no existe la carpeta de ejercicios {pack}", f"exercise folder {pack} does not exist"))
        exercises = tuple(Exercise.from_folder(d) for d in sorted(pack.iterdir())
                          if d.is_dir() and (d / "exercise.toml").is_file())
        if not exercises:
            raise PackError(Msg(f"{pack} no contiene ejercicios", f"{pack} holds no exercises"))
        seed, datasets, limits = 20251127, {}, {}
        deadline = None
        leaderboard: LeaderboardConfig | None = None
        if config is not None:
            try:
                cfg = tomllib.loads(Path(config).read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise PackError(Msg(f"configuración {config}: {exc}", f"config {config}: {exc}")) from None
            seed = int(cfg.get("seed", seed))
            datasets = {str(k): dict(v) for k, v in cfg.get("datasets", {}).items()}
            for key, value in datasets.items():
                if "source" in value and not Path(value["source"]).is_absolute():
                    value["source"] = str((Path(config).parent / value["source"]).resolve())
                datasets[key] = value
            limits = dict(cfg.get("limits", {}))
            if "deadline" in cfg:
                deadline = DeadlinePolicy.from_table(cfg["deadline"])
            leaderboard = leaderboard_of(cfg)
            if cfg.get("exercises"):
                wanted = set(cfg["exercises"])
                exercises = tuple(e for e in exercises if e.id in wanted)
        # An instructor's own data (a private test set) replaces the exercise's bundled data.
        exercises = tuple(replace(e, data={**e.data, **datasets[e.id]}) if e.id in datasets else e
                          for e in exercises)
        if leaderboard is not None:   # the held-out checks split their figures at this share
            exercises = tuple(replace(e, params={**e.params, "leaderboard_public_share": leaderboard.public_share})
                              for e in exercises)
        return cls(exercises=exercises, pack_dir=pack, seed=seed, datasets=datasets, limits_override=limits,
                   deadline=deadline, leaderboard=leaderboard)

    # -- shipping the course to a machine that does not share this file system (Dask) -----
    def to_bundle(self) -> dict[str, Any]:
        """The whole course as plain data and bytes: every file of each exercise's folder,
        its parsed settings, the course settings, and each exercise's data file (the
        instructor's private test set) as bytes. `Course.from_bundle` rebuilds it."""
        from tfgrade.pack.datasets import DataConfig

        exercises = []
        for ex in self.exercises:
            files = {}
            for path in sorted(ex.folder.rglob("*")):
                rel = path.relative_to(ex.folder)
                if path.is_file() and not any(p == "__pycache__" or p.startswith(".") for p in rel.parts):
                    files[rel.as_posix()] = path.read_bytes()
            data = dict(ex.data)
            data_file = None
            source = DataConfig.from_mapping({"source": data["source"]}, ex.folder).source if data.get("source") else None
            if source is not None:
                try:
                    data_file = (source.name, source.read_bytes())
                except OSError as exc:
                    raise PackError(Msg(f"no se puede leer el fichero de datos {source}: {exc.strerror}",
                                        f"cannot read the data file {source}: {exc.strerror}")) from None
                data.pop("source")
            exercises.append({"id": ex.id, "folder": ex.folder.name, "files": files, "data": data,
                              "data_file": data_file, "params": dict(ex.params), "limits": dict(ex.limits.__dict__)})
        return {"bundle_version": 1, "seed": self.seed, "limits_override": dict(self.limits_override),
                "datasets": {k: {kk: vv for kk, vv in v.items() if kk != "source"} for k, v in self.datasets.items()},
                "exercises": exercises}

    @classmethod
    def from_bundle(cls, bundle: dict[str, Any], dest: Path) -> Course:
        """The course of `to_bundle`, its files written under `dest` (pack/ and data/)."""
        if bundle.get("bundle_version") != 1:
            raise PackError(Msg("curso empaquetado con otra versión de tfgrade",
                                "a course bundled by another version of tfgrade"))
        dest = Path(dest)
        pack = dest / "pack"
        exercises = []
        for item in bundle["exercises"]:
            folder = pack / _safe_part(item["folder"])
            for rel, content in item["files"].items():
                parts = PurePosixPath(rel).parts
                if not parts or any(p in ("", ".", "..") for p in parts) or PurePosixPath(rel).is_absolute():
                    raise PackError(Msg(f"ruta no válida en el curso empaquetado: {rel!r}",
                                        f"invalid path in the bundled course: {rel!r}"))
                target = folder.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            ex = Exercise.from_folder(folder)
            data = dict(item["data"])
            if item.get("data_file"):
                name, content = item["data_file"]
                target = dest / "data" / _safe_part(item["id"]) / _safe_part(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                data["source"] = str(target)
            exercises.append(replace(ex, data=data, params=dict(item["params"]),
                                     limits=ExerciseLimits(**item["limits"])))
        datasets = {str(k): dict(v) for k, v in bundle["datasets"].items()}
        for ex in exercises:
            if ex.id in datasets and "source" in ex.data:
                datasets[ex.id]["source"] = ex.data["source"]
        return cls(exercises=tuple(exercises), pack_dir=pack, seed=int(bundle["seed"]), datasets=datasets,
                   limits_override=dict(bundle["limits_override"]))

    def limits_for(self, exercise: Exercise) -> ExerciseLimits:
        if not self.limits_override:
            return exercise.limits
        merged = {**exercise.limits.__dict__, **{k: v for k, v in self.limits_override.items()
                                                 if k in ExerciseLimits.__dataclass_fields__}}
        return ExerciseLimits(**merged)


def _safe_part(name: str) -> str:
    """One path component of a bundled course, never a way out of its folder."""
    base = os.path.basename(str(name).replace("\\", "/"))
    if base in ("", ".", ".."):
        raise PackError(Msg(f"nombre no válido en el curso empaquetado: {name!r}",
                            f"invalid name in the bundled course: {name!r}"))
    return base
