"""Find and layer presets, scales and suites: base <- scale <- preset <- preset's [at.<scale>] <- --set."""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.schema import RunConfig
from simsiam_tui.config.validate import brief, build_config, check_switches, flatten, parse_override


def shipped_dir() -> Path:
    """The presets that ship: simsiam_tui/presets inside an installed wheel, else a checkout's top-level presets/."""
    packaged = resources.files("simsiam_tui").joinpath("presets")  # the wheel's copy (setup.py's build_py puts it there)
    if isinstance(packaged, Path) and (packaged / "base.toml").is_file():  # not an empty leftover folder
        return packaged
    return Path(__file__).resolve().parents[2] / "presets"  # a source tree (PYTHONPATH or an editable install)


SHIPPED_DIR = shipped_dir()
PRESETS_ENV = "SIMSIAM_TUI_PRESETS"
# Keys of a preset or scale file that describe it rather than configure a run.
META_KEYS = ("description", "paper", "at")


def preset_dirs(user_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for presets, user folder (--presets or $SIMSIAM_TUI_PRESETS) first."""
    dirs: list[Path] = []
    chosen = user_dir or os.environ.get(PRESETS_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise ConfigError(f"presets folder '{path}' does not exist; pass an existing folder with --presets")
        dirs.append(path)
    dirs.append(SHIPPED_DIR)
    return dirs


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; a syntax error names the file and the line."""
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"broken TOML in {path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"broken TOML in {path}: arrays or tables nested too deeply") from None
    except UnicodeDecodeError as exc:  # (a ValueError too: caught first)
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); TOML files must be UTF-8") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise ConfigError(f"broken TOML in {path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def _names(kind: str, user_dir: str | Path | None) -> list[str]:
    found: set[str] = set()
    for folder in preset_dirs(user_dir):
        sub = folder / kind if kind else folder
        found |= {p.stem for p in sub.glob("*.toml") if p.stem != "base"}
    return sorted(found)


def list_presets(user_dir: str | Path | None = None) -> list[str]:
    """Names of every preset visible from the shipped and user folders."""
    return _names("", user_dir)


def list_suites(user_dir: str | Path | None = None) -> list[str]:
    """Names of every suite."""
    return _names("suites", user_dir)


def list_scales(user_dir: str | Path | None = None) -> list[str]:
    """Names of every scale."""
    return _names("scales", user_dir)


def _find(kind: str, name: str, user_dir: str | Path | None) -> Path:
    label = kind or "preset"
    candidate = Path(name).expanduser()
    if name.endswith(".toml") or os.sep in name:
        if candidate.is_file():
            return candidate
        raise ConfigError(f"{label.rstrip('s')} file '{name}' does not exist")
    for folder in preset_dirs(user_dir):
        path = (folder / kind if kind else folder) / f"{name}.toml"
        if path.is_file() and name != "base":
            return path
    known = _names(kind, user_dir)
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.6)  # typos only, no wild guesses
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise ConfigError(f"unknown {label.rstrip('s')} '{name}'; {hint}available: {', '.join(known) or 'none'}")


@dataclass
class Layer:
    """One TOML file's contribution: dotted keys plus its `[at.<scale>]` blocks."""

    path: Path
    description: str
    values: dict[str, Any]
    at: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_layer(path: Path) -> Layer:
    """Read one preset, scale or base file into a Layer, rejecting unknown keys."""
    table = read_toml(path)
    description = str(table.get("description", ""))
    at_tables = table.get("at", {})
    if not isinstance(at_tables, dict) or not all(isinstance(sub, dict) for sub in at_tables.values()):
        raise ConfigError(f"'at' in {path} must hold tables like [at.digits]")
    body = {k: v for k, v in table.items() if k not in META_KEYS}
    where = f" in {path}"
    values = flatten(body, where)
    at = {scale: flatten(sub, f" in {path} [at.{scale}]") for scale, sub in at_tables.items()}
    return Layer(path, description, values, at)


def default_scale() -> str:
    """The scale used when none is given: $SIMSIAM_TUI_SCALE (the CLI sets it from its GPU probe), else digits."""
    return os.environ.get("SIMSIAM_TUI_SCALE", "digits")


def resolve_config(
    preset: str = "simsiam",
    scale: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    presets_dir: str | Path | None = None,
) -> RunConfig:
    """Resolve a preset at a scale with `--set` overrides into a validated RunConfig."""
    scale = scale or default_scale()
    base = load_layer(SHIPPED_DIR / "base.toml")
    scale_layer = load_layer(_find("scales", scale, presets_dir))
    preset_layer = load_layer(_find("", preset, presets_dir))
    flat: dict[str, Any] = {}
    sources: dict[str, str] = {}
    scale_name = scale_layer.path.stem
    for layer in (base.values, scale_layer.values, preset_layer.values, preset_layer.at.get(scale_name, {})):
        flat.update(layer)
    for source in (scale_layer, preset_layer):
        sources.update({k: str(source.path) for k in source.values})
    for text in overrides:
        key, value = parse_override(text)
        flat[key] = value
        sources[key] = f"--set {brief(text)}"
    if isinstance(flat.get("data.dir"), str) and flat["data.dir"]:
        # relative to where the user is now: the worker starts elsewhere (in /, or on a Slurm node)
        flat["data.dir"] = str(Path(flat["data.dir"]).expanduser().resolve())
    flat.setdefault("variant", preset_layer.path.stem)
    flat["scale"] = scale_name
    flat.setdefault("description", preset_layer.description)
    cfg = build_config(flat, sources)
    check_switches(cfg, sources)
    return cfg


@dataclass
class Suite:
    """A named group of presets launched together and compared side by side."""

    name: str
    description: str
    presets: list[str]
    scale: str | None
    overrides: list[str]


def load_suite(name: str, presets_dir: str | Path | None = None) -> Suite:
    """Read a suite file and check that every preset it names exists."""
    path = _find("suites", name, presets_dir)
    table = read_toml(path)
    unknown = set(table) - {"description", "presets", "scale", "overrides"}
    if unknown:
        raise ConfigError(f"unknown key '{sorted(unknown)[0]}' in suite {path}; allowed: description, presets, scale, overrides")
    presets = table.get("presets")
    if not isinstance(presets, list) or not presets or not all(isinstance(p, str) for p in presets):
        raise ConfigError(f"suite {path} needs 'presets', a non-empty list of preset names")
    for preset in presets:
        _find("", preset, presets_dir)
    scale, overrides = table.get("scale"), table.get("overrides", [])
    if scale is not None and not isinstance(scale, str):
        raise ConfigError(f"suite {path}: 'scale' must be a scale name")
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise ConfigError(f"suite {path}: 'overrides' must be a list of KEY=VALUE strings")
    return Suite(path.stem, str(table.get("description", "")), presets, scale, list(overrides))


def describe_preset(name: str, presets_dir: str | Path | None = None) -> tuple[str, str]:
    """A preset's description and the paper's figure for it."""
    table = read_toml(_find("", name, presets_dir))
    return str(table.get("description", "")), str(table.get("paper", ""))
