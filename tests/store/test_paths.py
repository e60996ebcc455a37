"""Run names never escape the runs root; ids are unique; ids resolve by prefix with clear errors."""

from __future__ import annotations

import pytest

from simsiam_tui.config import resolve_config
from simsiam_tui.store import StoreError, check_name, create_run, resolve_run, runs_root
from simsiam_tui.store.runs import run_handle


@pytest.mark.parametrize("name", ["../x", "..", ".", "/etc/passwd", "a/b", "a\x00b", "", "-rf", "x" * 65])
def test_bad_names_are_rejected(name):
    with pytest.raises(StoreError):
        check_name(name)


def test_good_names_pass():
    assert check_name("sg_ablation-2.v1") == "sg_ablation-2.v1"


def test_create_run_layout_and_unique_ids(tmp_path):
    cfg = resolve_config("simsiam", "digits")
    a = create_run(tmp_path, cfg)
    b = create_run(tmp_path, cfg)
    assert a.run_id != b.run_id and a.dir.parent == b.dir.parent == tmp_path
    assert a.config.is_file() and a.status.is_file() and a.checkpoints.is_dir()
    assert "-simsiam-" in a.run_id


def test_resolve_run_by_prefix_and_name(tmp_path):
    cfg = resolve_config("simsiam", "digits")
    a = create_run(tmp_path, cfg, name="alpha")
    create_run(tmp_path, cfg, name="beta")
    assert resolve_run(tmp_path, a.run_id) == a
    assert resolve_run(tmp_path, "alpha") == a
    with pytest.raises(StoreError, match="ambiguous"):
        resolve_run(tmp_path, a.run_id[:4])
    with pytest.raises(StoreError, match=r"no run 'gamma' .*runs there: .*alpha"):
        resolve_run(tmp_path, "gamma")
    with pytest.raises(StoreError, match="leave the runs folder"):
        resolve_run(tmp_path, "../" + a.run_id)


def test_an_exact_name_wins_over_a_longer_name_that_contains_it(tmp_path):
    cfg = resolve_config("simsiam", "digits")
    run = create_run(tmp_path, cfg, name="simsiam-s0")
    evaluation = create_run(tmp_path, cfg, name="simsiam-s0-linear")  # what `eval linear simsiam-s0` names its run
    assert resolve_run(tmp_path, "simsiam-s0") == run
    assert resolve_run(tmp_path, "simsiam-s0-linear") == evaluation
    create_run(tmp_path, cfg, name="simsiam-s0")  # two runs of that exact name: still ambiguous
    with pytest.raises(StoreError, match="ambiguous"):
        resolve_run(tmp_path, "simsiam-s0")


def test_runs_root_order(tmp_path, monkeypatch):
    monkeypatch.delenv("SIMSIAM_TUI_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert runs_root() == tmp_path.resolve() / "runs"
    monkeypatch.setenv("SIMSIAM_TUI_RUNS", str(tmp_path))
    assert runs_root() == tmp_path
    assert runs_root(tmp_path / "x") == tmp_path / "x"
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(StoreError, match="is a file"):
        runs_root(afile)


@pytest.mark.parametrize(
    ("given", "env", "expected"),
    [
        (None, None, "work/runs"),  # the default ./runs
        ("rel", None, "work/rel"),  # --runs rel
        (None, "envrel", "work/envrel"),  # $SIMSIAM_TUI_RUNS=envrel
        ("../x", None, "x"),  # watch ../x
        ("~/runs", None, "home/runs"),  # ~ expanded
        ("./a/../b", None, "work/b"),
    ],
)
def test_runs_root_is_absolute_whatever_the_form(tmp_path, monkeypatch, given, env, expected):
    """Every form of the runs folder comes back absolute and resolved, relative to the cwd at the call."""
    (tmp_path / "work").mkdir()
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if env is None:
        monkeypatch.delenv("SIMSIAM_TUI_RUNS", raising=False)
    else:
        monkeypatch.setenv("SIMSIAM_TUI_RUNS", env)
    root = runs_root(given)
    assert root.is_absolute() and root == tmp_path.resolve() / expected
    monkeypatch.chdir(tmp_path)  # a later change of directory does not move it
    assert root == tmp_path.resolve() / expected


def test_runs_root_must_exist_names_the_folder(tmp_path):
    with pytest.raises(StoreError, match=r"runs folder '.*nowhere' does not exist: no runs there"):
        runs_root(tmp_path / "nowhere", must_exist=True)
    assert runs_root(tmp_path, must_exist=True) == tmp_path.resolve()


def test_run_files_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    import os

    run = create_run(tmp_path, resolve_config("simsiam", "digits"))
    umask = os.umask(0o022)
    os.umask(umask)
    for f in (run.config, run.status):
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask, f  # a teammate's watcher can read them


def test_the_app_s_handle_names_a_run_everywhere(tmp_path):
    """Two runs named simsiam: the app shows `simsiam-<hex>`, and that handle resolves; the name alone lists both."""
    cfg = resolve_config("simsiam", "digits")
    a, b = create_run(tmp_path, cfg, name="simsiam"), create_run(tmp_path, cfg, name="simsiam")
    handle_a, handle_b = run_handle(a.run_id), run_handle(b.run_id)
    assert handle_a.startswith("simsiam-") and handle_a == "simsiam-" + a.run_id.rsplit("-", 1)[1]
    assert resolve_run(tmp_path, handle_a) == a and resolve_run(tmp_path, handle_b) == b
    with pytest.raises(StoreError, match="ambiguous") as info:
        resolve_run(tmp_path, "simsiam")
    assert f"{handle_a} ({a.run_id})" in str(info.value) and f"{handle_b} ({b.run_id})" in str(info.value)
