"""Each method's own config section: discovered, validated by its own schema, set from TOML and --set, legacy keys load."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from simsiam_tui.config import ConfigError, config_to_dict, parse_config_file, resolve_config, valid_keys
from simsiam_tui.config import methods as method_schemas
from simsiam_tui.config.legacy import LEGACY_KEYS
from simsiam_tui.config.methods.moco import MoCoParams
from simsiam_tui.config.methods.vicreg import VICRegParams

REPO = Path(__file__).resolve().parents[2]


def test_the_method_names_are_exactly_the_discovered_schema_modules() -> None:
    modules = {m.name for m in pkgutil.iter_modules(method_schemas.__path__) if not m.name.startswith("_")}
    assert set(method_schemas.method_names()) == modules
    assert {"simsiam", "simclr", "instdisc", "moco", "byol", "vicreg", "barlow_twins"} <= modules
    with pytest.raises(ConfigError, match="invalid value 'nope' for 'method.name'.*expected one of barlow_twins, byol"):
        resolve_config("simsiam", "digits", ["method.name=nope"])


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on the schema package's path holding one new method's module (off the path again afterwards)."""
    (tmp_path / "toy.py").write_text(
        "from dataclasses import dataclass\n"
        "from simsiam_tui.config.methods import param, section\n\n"
        "@section('toy')\n@dataclass\nclass ToyParams:\n"
        "    alpha: float = param(0.5, 'how much', 'unit_interval')\n"
        "    mode: str = param('a', 'which', ('a', 'b'))\n"
    )
    monkeypatch.setattr(method_schemas, "__path__", [*method_schemas.__path__, str(tmp_path)])
    yield tmp_path
    sys.modules.pop("simsiam_tui.config.methods.toy", None)


def test_a_new_methods_schema_module_is_discovered_with_its_keys_defaults_and_rules(plugin_dir: Path) -> None:
    assert "toy" in method_schemas.method_names()
    assert {"method.toy.alpha", "method.toy.mode"} <= set(valid_keys())
    cfg = resolve_config("simsiam", "digits", ["method.name=toy", "method.toy.mode=b"])
    assert config_to_dict(cfg)["method"]["toy"] == {"alpha": 0.5, "mode": "b"}  # its defaults, then --set
    with pytest.raises(ConfigError, match=r"^invalid value 2\.0 for 'method\.toy\.alpha'.*: expected a number in \[0, 1\]$"):
        resolve_config("simsiam", "digits", ["method.toy.alpha=2.0"])
    with pytest.raises(ConfigError, match="expected one of a, b$"):
        resolve_config("simsiam", "digits", ["method.toy.mode=c"])


def test_a_preset_sets_its_methods_own_section(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        '[method]\nname = "moco"\n[method.moco]\nqueue_size = 128\n[at.digits.method.moco]\nmomentum = 0.9\n'
    )
    digits = resolve_config("mine", "digits", presets_dir=tmp_path).method.params(MoCoParams)
    assert (digits.queue_size, digits.momentum, digits.temperature) == (128, 0.9, 0.2)  # temperature: the default
    assert resolve_config("mine", "cifar10", presets_dir=tmp_path).method.params(MoCoParams).momentum == 0.99


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[method.vicreg]\nsim_coef = 3.0\n", r"unknown config key 'method\.vicreg\.sim_coef' in .*bad\.toml; did you mean 'method\.vicreg\.sim_coeff'\?$"),
        ("[method.vicreeg]\nsim_coeff = 3.0\n", r"unknown config key 'method\.vicreeg' in .*; did you mean 'method\.vicreg'\?$"),
        ("[method.moco]\nqueue_size = 'big'\n", r"invalid value 'big' for 'method\.moco\.queue_size' \(from .*bad\.toml\): expected a positive integer$"),
        ("[method.moco]\nmomentum = 1.5\n", r"invalid value 1\.5 for 'method\.moco\.momentum' .*: expected a number in \[0, 1\]$"),
        ("[method.vicreg]\nstd_coeff = -1\n", r"invalid value -1\.0 for 'method\.vicreg\.std_coeff' .*: expected a non-negative number$"),
    ],
)
def test_a_bad_method_section_is_one_line_naming_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message) as err:
        resolve_config("bad", "digits", presets_dir=tmp_path)
    assert "\n" not in str(err.value)


def test_set_on_a_method_section_and_a_legacy_key_in_set_says_where_it_moved() -> None:
    cfg = resolve_config("vicreg", "digits", ["method.vicreg.sim_coeff=10", "method.vicreg.cov_coeff=0"])
    assert (cfg.method.params(VICRegParams).sim_coeff, cfg.method.params(VICRegParams).cov_coeff) == (10.0, 0.0)
    with pytest.raises(ConfigError, match=r"did you mean 'method\.vicreg\.sim_coeff'\?$"):
        resolve_config("vicreg", "digits", ["method.vicreg.sim_coef=10"])
    with pytest.raises(ConfigError, match=r"^unknown config key 'method\.vicreg_lambda' in --set; .*: method\.vicreg\.sim_coeff$"):
        resolve_config("vicreg", "digits", ["method.vicreg_lambda=10"])


# config.json of a run written before the per-method sections (every method's values in one flat [method])
OLD_LAYOUT = {
    "variant": "momentum", "scale": "digits", "description": "", "group": "",
    "method": {
        "name": "moco", "stop_grad": True, "stop_grad_at": "output", "predictor": "mlp", "symmetric": True,
        "similarity": "cosine", "temperature": 0.3, "queue_size": 1024, "bank_negatives": 512, "bank_momentum": 0.25,
        "ema_momentum": 0.95, "vicreg_lambda": 10.0, "vicreg_mu": 20.0, "vicreg_nu": 2.0, "bt_lambda": 0.01,
    },
    "model": {"backbone": "resnet-small", "width": 8, "dim": 32, "pred_dim": 8, "proj_layers": 2},
    "train": {"epochs": 1, "seed": 0, "device": "cpu", "compile": False},
}


def test_a_run_config_in_the_old_flat_layout_loads_into_the_sections(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(OLD_LAYOUT))
    cfg = parse_config_file(path.read_bytes(), path)
    method = config_to_dict(cfg)["method"]
    assert method["name"] == "moco"
    assert method["moco"] == {"temperature": 0.3, "queue_size": 1024, "momentum": 0.95}
    assert method["instdisc"] == {"temperature": 0.3, "negatives": 512, "bank_momentum": 0.25}
    assert method["simclr"] == {"temperature": 0.3}
    assert method["byol"] == {"base_momentum": 0.95, "momentum_schedule": "cosine"}
    assert method["vicreg"] == {"sim_coeff": 10.0, "std_coeff": 20.0, "cov_coeff": 2.0, "std_branches": "sum"}  # as trained
    assert method["barlow_twins"] == {"lambd": 0.01}
    # every legacy key maps to keys that exist, and written back it is the new layout, which loads to the same config
    assert {new for news in LEGACY_KEYS.values() for new in news} <= set(valid_keys())
    path.write_text(json.dumps(config_to_dict(cfg)))
    assert parse_config_file(path.read_bytes(), path) == cfg


def test_a_new_key_beside_its_legacy_key_wins(tmp_path: Path) -> None:
    (tmp_path / "both.toml").write_text('[method]\nname = "moco"\nema_momentum = 0.5\n[method.moco]\nmomentum = 0.9\n')
    cfg = resolve_config("both", "digits", presets_dir=tmp_path)
    assert cfg.method.params(MoCoParams).momentum == 0.9
    assert cfg.method.sections["byol"].base_momentum == 0.5  # the old shared key still reaches BYOL


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SIMSIAM_TUI_SCALE": "digits"}
    env.pop("SIMSIAM_TUI_PRESETS", None)
    return subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_set_on_a_method_section(tmp_path: Path) -> None:
    shown = _cli(tmp_path, "presets", "show", "vicreg", "--set", "method.vicreg.sim_coeff=10")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["method"]["vicreg"] == {
        "sim_coeff": 10.0, "std_coeff": 25.0, "cov_coeff": 1.0, "std_branches": "mean"
    }
    dry = _cli(tmp_path, "launch", "--preset", "momentum", "--set", "method.moco.queue_size=256", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)[0]["method"]["moco"]["queue_size"] == 256
    bad = _cli(tmp_path, "presets", "show", "vicreg", "--set", "method.vicreg.sim_coef=10")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().count("\n") == 0 and "did you mean 'method.vicreg.sim_coeff'?" in bad.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written: show and --dry-run start nothing


@pytest.mark.parametrize(
    ("preset", "switch", "reads"),
    [("momentum", "method.predictor=none", "method.symmetric"), ("byol", "method.symmetric=false", "none of the"),
     ("vicreg", "method.stop_grad=false", "none of the")],
)  # fmt: skip
def test_a_switch_the_method_does_not_read_is_one_line_not_a_silent_no_op(preset: str, switch: str, reads: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_config(preset, "digits", [switch])
    message = str(err.value)
    assert f"has no effect on method '{resolve_config(preset, 'digits').method.name}'" in message
    assert f"(from --set {switch})" in message and reads in message
    assert resolve_config("momentum", "digits", ["method.symmetric=false"]).method.symmetric is False  # moco reads it
    assert resolve_config("simsiam", "digits", ["method.predictor=none"]).method.predictor == "none"


def test_a_stored_config_with_such_a_switch_still_loads(tmp_path: Path) -> None:
    """An old run folder is never locked out of `runs resume` by a check added later."""
    from simsiam_tui.config import config_from_dict

    data = config_to_dict(resolve_config("byol", "digits"))
    data["method"]["symmetric"] = False
    assert config_from_dict(data).method.symmetric is False


def test_cli_switch_the_method_does_not_read(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "launch", "--preset", "byol", "--set", "method.predictor=none", "--dry-run")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "has no effect on method 'byol'" in proc.stderr
