"""Presets, suites and scales resolve, layer and validate with one-line errors."""

from __future__ import annotations

import pytest

from simsiam_tui.config import ConfigError, list_presets, list_suites, load_suite, resolve_config

SHIPPED_PRESETS = {
    "simsiam",
    "no-stop-grad",
    "no-predictor",
    "fixed-random-predictor",
    "asymmetric",
    "cross-entropy",
    "sg-encoder-mlp",
}


def test_every_shipped_preset_resolves_at_every_scale():
    assert SHIPPED_PRESETS <= set(list_presets())
    for preset in list_presets():
        for scale in ("digits", "cifar10", "imagenet"):
            cfg = resolve_config(preset, scale)
            assert cfg.variant == preset and cfg.scale == scale


def test_layers_apply_in_order():
    cfg = resolve_config("no-stop-grad", "cifar10", ["optim.lr=0.1"])
    assert cfg.method.stop_grad is False  # from the preset
    assert cfg.model.backbone == "resnet18-cifar" and cfg.data.batch_size == 512  # from the scale
    assert cfg.optim.lr == 0.1  # from --set
    imagenet = resolve_config("simsiam", "imagenet")
    assert (imagenet.model.backbone, imagenet.model.proj_layers, imagenet.optim.lr) == ("resnet50", 3, 0.05)


def test_paper_cifar_recipe():
    cfg = resolve_config("simsiam", "cifar10")
    assert (cfg.optim.lr, cfg.optim.weight_decay, cfg.train.epochs, cfg.data.blur) == (0.03, 5e-4, 800, False)
    assert (cfg.model.dim, cfg.model.pred_dim, cfg.optim.momentum) == (2048, 512, 0.9)


def test_suites_name_existing_presets():
    assert {"stop-grad", "predictor", "loss"} <= set(list_suites())
    assert load_suite("stop-grad").presets == ["simsiam", "no-stop-grad"]
    assert load_suite("predictor").presets == ["simsiam", "no-predictor", "fixed-random-predictor"]
    assert load_suite("loss").presets == ["simsiam", "asymmetric", "cross-entropy"]


def test_preset_at_scale_block(tmp_path):
    (tmp_path / "warm.toml").write_text(
        'description = "warm"\n[optim]\nwarmup_epochs = 2\n[at.imagenet.optim]\nwarmup_epochs = 10\n'
    )
    assert resolve_config("warm", "digits", presets_dir=tmp_path).optim.warmup_epochs == 2
    assert resolve_config("warm", "imagenet", presets_dir=tmp_path).optim.warmup_epochs == 10


def test_user_folder_from_env_and_path(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text("[method]\npredictor = 'none'\n")
    monkeypatch.setenv("SIMSIAM_TUI_PRESETS", str(tmp_path))
    assert "mine" in list_presets()
    assert resolve_config("mine", "digits").method.predictor == "none"
    monkeypatch.delenv("SIMSIAM_TUI_PRESETS")
    assert resolve_config(str(tmp_path / "mine.toml"), "digits").variant == "mine"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["optim.lrr=0.1"], "unknown config key 'optim.lrr' in --set; did you mean 'optim.lr'?"),
        (["optim.lr=-0.1"], "invalid value -0.1 for 'optim.lr' (from --set optim.lr=-0.1): expected a positive number"),
        (["data.batch_size=0"], "invalid value 0 for 'data.batch_size'"),
        (["data.batch_size=1.5"], "expected a positive integer"),
        (["method.name=swav"], "expected one of barlow_twins, byol, instdisc, moco, simclr, simsiam, vicreg"),
        (["method.predictor=linear"], "expected one of mlp, none, fixed-random"),
        (["method.stop_grad=maybe"], "invalid value 'maybe' for 'method.stop_grad'"),
        (["optim.lr"], "--set expects KEY=VALUE"),
    ],
)
def test_bad_overrides_give_one_line(overrides, expected):
    with pytest.raises(ConfigError) as info:
        resolve_config("simsiam", "digits", overrides)
    message = str(info.value)
    assert expected in message and "\n" not in message


def test_unknown_preset_suite_and_scale_list_what_exists():
    with pytest.raises(ConfigError, match=r"unknown preset 'nope'; available: .*no-stop-grad.*simsiam"):
        resolve_config("nope", "digits")
    with pytest.raises(ConfigError, match=r"unknown suite 'nope'; available: .*loss, predictor, .*stop-grad"):
        load_suite("nope")
    with pytest.raises(ConfigError, match=r"unknown scale 'huge'; available: cifar10, digits, imagenet"):
        resolve_config("simsiam", "huge")


def test_broken_toml_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text("[method]\nstop_grad = true\npredictor = \n")
    with pytest.raises(ConfigError, match=r"broken TOML in .*broken.toml: .*line 3"):
        resolve_config(str(bad), "digits")


def test_unknown_key_in_file_is_named_with_file(tmp_path):
    (tmp_path / "typo.toml").write_text("[optim]\nweight_decy = 0.1\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'optim.weight_decy' in .*typo.toml; did you mean 'optim.weight_decay'"):
        resolve_config("typo", "digits", presets_dir=tmp_path)


def test_wrong_type_in_file(tmp_path):
    (tmp_path / "t.toml").write_text("[train]\nepochs = 'ten'\n")
    with pytest.raises(ConfigError, match=r"invalid value 'ten' for 'train.epochs' \(from .*t.toml\): expected a positive integer"):
        resolve_config("t", "digits", presets_dir=tmp_path)


def test_one_launch_resolution_suite_first_then_the_other_presets(tmp_path, monkeypatch) -> None:
    from simsiam_tui.config.resolve import resolve_launch

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()  # cifar10's data.dir: its loader downloads into it (data.download is on)
    cfgs = resolve_launch(["byol", "simsiam", "byol"], "stop-grad", "cifar10", ["train.epochs=2"])
    assert [c.variant for c in cfgs] == ["simsiam", "no-stop-grad", "byol", "byol"]
    assert {c.scale for c in cfgs} == {"cifar10"} and {c.train.epochs for c in cfgs} == {2}
    with pytest.raises(ConfigError, match="give --preset NAME"):
        resolve_launch([])


def test_data_dir_is_made_absolute_where_the_user_is(tmp_path, monkeypatch):
    """`./data` (the cifar10 default) and `--set data.dir=rel` name folders under the launching cwd, not the worker's."""
    from simsiam_tui.config import resolve_config

    monkeypatch.chdir(tmp_path)
    assert resolve_config("simsiam", "cifar10").data.dir == str(tmp_path.resolve() / "data")
    assert resolve_config("simsiam", "cifar10", ["data.dir=rel/x"]).data.dir == str(tmp_path.resolve() / "rel" / "x")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_config("simsiam", "cifar10", ["data.dir=~/d"]).data.dir == str(tmp_path.resolve() / "home" / "d")


def test_a_launch_checks_its_data_before_anything_starts(tmp_path, monkeypatch) -> None:
    """A missing data folder is one line naming it and the fix, for every launch path (CLI, slurm, the app)."""
    from simsiam_tui.config.resolve import resolve_launch

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"data.dir '/nonexistent' is not a folder.*--scale digits"):
        resolve_launch(["simsiam"], scale="cifar10", overrides=["data.dir=/nonexistent"])
    with pytest.raises(ConfigError, match=r"mkdir -p .*data"):
        resolve_launch(["simsiam"], scale="cifar10")
    (tmp_path / "data").mkdir()
    assert resolve_launch(["simsiam"], scale="cifar10")  # there, empty: the worker downloads into it
    with pytest.raises(ConfigError, match=r"no cifar-10-batches-py/ .* data.download is off"):
        resolve_launch(["simsiam"], scale="cifar10", overrides=["data.download=false"])
    with pytest.raises(ConfigError, match=r"no train/ and val/ class folders"):
        resolve_launch(["simsiam"], scale="imagenet", overrides=[f"data.dir={tmp_path / 'data'}"])
    assert resolve_launch(["simsiam"], scale="digits", overrides=["data.dir=/nonexistent"])  # shipped: nothing to check
