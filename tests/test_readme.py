"""The README's commands, run as a newcomer types them: a subprocess in a fresh folder, no --runs, no SIMSIAM_TUI_*.

Every command in the README's `sh` blocks must be exercised here (or, for a real Slurm, in tests/slurm);
the app runs under a pseudo-terminal and is quit with `q`, as a person would.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shlex
import signal
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simsiam_tui.launch.scheduler import RUNNER_LOCK, root_lock_path
from simsiam_tui.store.verdict_rule import README_END, README_START, rule_markdown
from tests.helpers import wait_until

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BIN = Path(sys.executable).parent / "simsiam-tui"  # the console script `pip install .` puts next to python
LIVE = ("queued", "starting", "running")
RUN_TIMEOUT = 420  # a 1-epoch digits run takes ~20 s on an idle 2-core machine; CI machines are busy


def sh_commands(text: str) -> list[str]:
    """Every command line of the README's ```sh blocks, continuations joined, comments dropped."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(" ".join(line.split()))
    return commands


def newcomer_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: nothing of ours set (PYTHONPATH kept, so a source tree can be tested)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMSIAM_TUI_")}
    env.update(extra)
    return env


def argv_of(command: str) -> list[str]:
    """`simsiam-tui ARGS` as typed, with the installed console script."""
    parts = shlex.split(command)
    assert parts[0] == "simsiam-tui", command
    return [str(BIN), *parts[1:]]


def run(command: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run one README command in `cwd` and capture its output."""
    return subprocess.run(
        argv_of(command), cwd=cwd, env=env or newcomer_env(), capture_output=True, text=True, timeout=timeout
    )


def runs_json(cwd: Path, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    out = run("simsiam-tui runs ls --json", cwd, env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, poll: float = 1.0) -> Any:
    """tests.helpers.wait_until, polling once a second (each poll runs a CLI command)."""
    return wait_until(predicate, timeout, what, poll=poll)


def all_ended(cwd: Path, count: int) -> Callable[[], list[dict[str, Any]] | None]:
    def check() -> list[dict[str, Any]] | None:
        rows = runs_json(cwd)
        return rows if len(rows) == count and all(r["state"] not in LIVE for r in rows) else None

    return check


def stop_all(root: Path) -> None:
    """Teardown: `runs stop --force` every live run under root, then make sure no queue runner is left."""
    if not root.is_dir():
        return
    listed = subprocess.run(
        [str(BIN), "runs", "ls", "--json", "--runs", str(root)], capture_output=True, text=True, env=newcomer_env()
    )
    live = [r["id"] for r in json.loads(listed.stdout or "[]") if r["state"] in LIVE]
    if live:
        subprocess.run(
            [str(BIN), "runs", "stop", "--force", *live, "--runs", str(root)], capture_output=True, env=newcomer_env()
        )
    runner = root_lock_path(root, RUNNER_LOCK)
    text = runner.read_text().strip() if runner.exists() else ""
    if text.isdigit() and int(text) != os.getpid():
        try:
            os.kill(int(text), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Path]:
    """A fresh, empty working folder; every run started under its ./runs is stopped at teardown."""
    assert BIN.is_file(), f"no console script at {BIN}: install the package (`pip install .`) into this Python"
    cwd = tmp_path / "newcomer"
    cwd.mkdir()
    yield cwd
    stop_all(cwd / "runs")


class Terminal:
    """A command under a pseudo-terminal (the app needs one), its screen output drained on a thread."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str], size: tuple[int, int] = (120, 32)) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.master = master
        self.output = bytearray()
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env={**env, "TERM": "xterm-256color"}, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output.extend(data)

    def quit(self, timeout: float = 60) -> int:
        """Press `q` as a person would; the exit code."""
        os.write(self.master, b"q")
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        try:
            os.close(self.master)
        except OSError:
            pass


# -- the README itself ---------------------------------------------------------------------------------

# Where each README command is run. Entries naming another module need a real Slurm cluster.
EXERCISED = {
    "pip install . && simsiam-tui demo": "test_quick_start_demo_in_a_terminal",
    "simsiam-tui launch --suite stop-grad --scale digits --set train.epochs=1": "test_first_runs_block_as_typed",
    "simsiam-tui runs ls": "test_first_runs_block_as_typed",
    "simsiam-tui runs logs no-stop-grad -f": "test_first_runs_block_as_typed",
    "simsiam-tui runs compare": "test_first_runs_block_as_typed",
    "simsiam-tui": "test_first_runs_block_as_typed",
    "pip install '.[test]' && pytest": "test_ci_runs_the_readme_test_command",
    "export SIMSIAM_TUI_RUNS=/shared/$USER/simsiam-runs": "test_cluster_block_without_a_cluster",
    "simsiam-tui slurm submit --suite stop-grad --scale cifar10 --gpus-per-node 1 --partition gpu --time 12:00:00": (
        "test_cluster_block_without_a_cluster (--dry-run); tests/slurm/test_slurm_cluster.py"
    ),
    "simsiam-tui slurm submit --preset simsiam --dry-run": "test_cluster_block_without_a_cluster",
    "simsiam-tui watch /shared/$USER/simsiam-runs": "test_cluster_block_without_a_cluster",
    "simsiam-tui slurm ls": "test_cluster_block_without_a_cluster",
    "simsiam-tui slurm cancel RUN": "tests/slurm/test_slurm_cluster.py::test_cancel_ends_the_job",
    "simsiam-tui slurm submit --preset simsiam --scale imagenet --nodes 2 --gpus-per-node 8 --partition gpu "
    "--time 2-00:00:00 --account myproject": "test_cluster_block_without_a_cluster (--dry-run)",
    # figures and TensorBoard (issue 15), run as typed from a fresh folder holding ./runs
    "simsiam-tui runs plot --out fig.png": "tests/report/test_figure.py::test_readme_figure_commands",
    "simsiam-tui runs plot --out fig.pdf --x epoch --metrics loss,lr,system/gpu_util_pct": (
        "tests/report/test_figure.py::test_readme_figure_commands"
    ),
    "simsiam-tui runs export --tensorboard tb": "tests/report/test_figure.py::test_readme_figure_commands",
    # seeds, linear evaluation and the per-variant table (issue 14): the same commands on a smaller suite
    "simsiam-tui launch --preset simsiam --preset no-stop-grad --preset no-predictor --seeds 3 --scale digits": (
        "tests/launch/test_seeds_eval_e2e.py (--suite stop-grad --seeds 2); tests/benchmarks/test_ablation_tables.py"
    ),
    "simsiam-tui eval linear no-stop-grad-s0": "tests/launch/test_seeds_eval_e2e.py; tests/train/test_linear_eval.py",
    "simsiam-tui runs compare --by variant --markdown": "tests/cli/test_compare_by_variant.py",
    # groups and sweeps (issue 21)
    "simsiam-tui launch --preset simsiam --sweep optim.lr=0.01,0.05 --seeds 2 --scale digits --set train.epochs=2": (
        "test_sweep_block_as_typed"
    ),
    "simsiam-tui runs compare --by optim.lr": "test_sweep_block_as_typed",
}


def test_every_readme_command_is_exercised():
    """A command added to the README without a test that runs it fails here."""
    commands = sh_commands(README.read_text())
    assert "pip install . && simsiam-tui demo" in commands
    missing = [c for c in commands if c not in EXERCISED]
    assert not missing, f"README commands no test runs: {missing}"
    stale = [c for c in EXERCISED if c not in commands]
    assert not stale, f"commands no longer in the README: {stale}"


def test_readme_verdict_section_is_the_generated_rule():
    """The README's collapse rule is the text generated from store/verdict.py's thresholds."""
    text = README.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    assert text[start:end] == rule_markdown(), "run `python -m simsiam_tui.store.verdict_rule` and paste it"


def test_ci_runs_the_readme_test_command():
    """`.ci/run` installs and tests as the README says (`pip install '.[test]'`, then `pytest`)."""
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert "pip install '.[test]' && pytest" in sh_commands(README.read_text())
    assert any(line.strip().startswith("pip install -q '.[test]'") for line in ci)
    assert any(line.strip() == "pytest" for line in ci)


@pytest.mark.parametrize(
    ("command", "code", "expect"),
    [
        ("simsiam-tui --help", 0, "launch"),
        ("simsiam-tui --version", 0, "simsiam-tui"),
        ("simsiam-tui presets ls", 0, "no-stop-grad"),
        ("simsiam-tui presets show simsiam --scale digits", 0, '"stop_grad": true'),
        ("simsiam-tui gpus", 0, ""),
        ("simsiam-tui launch --preset no-predictor --dry-run", 0, '"predictor": "none"'),
        ("simsiam-tui launch --preset no-predicter --dry-run", 2, "did you mean 'no-predictor'?"),
        ("simsiam-tui runs ls", 2, "does not exist: no runs there"),  # nothing launched in this folder yet
        ("simsiam-tui runs ls --runs /nonexistent", 2, "runs folder '/nonexistent' does not exist: no runs there"),
        ("simsiam-tui watch ../nowhere", 2, "no such folder"),
        ("simsiam-tui runs --help", 0, "compare"),
        ("simsiam-tui demo --help", 0, "--no-app"),
    ],
)
def test_read_only_commands(fresh, command, code, expect):
    """Commands that start nothing: their exit code, their words, one line on error, no runs folder made."""
    out = run(command, fresh)
    assert out.returncode == code, (out.stdout, out.stderr)
    assert expect in (out.stdout if code == 0 else out.stderr)
    if code:
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (fresh / "runs").exists()


@pytest.mark.slow
def test_cluster_block_without_a_cluster(fresh):
    """The cluster section as typed, with a local folder as the shared one and --dry-run where sbatch is needed."""
    shared = fresh / "shared" / "simsiam-runs"
    shared.mkdir(parents=True)
    # a cluster user's data where the scales look for it (launch checks it before anything is made)
    for folder in ("data/cifar-10-batches-py", "data/imagenet/train", "data/imagenet/val"):
        (fresh / folder).mkdir(parents=True)
    env = newcomer_env(SIMSIAM_TUI_RUNS=str(shared))
    submits = [c for c in sh_commands(README.read_text()) if c.startswith("simsiam-tui slurm submit")]
    assert len(submits) == 3
    for command in submits:
        typed = command if "--dry-run" in command else f"{command} --dry-run"
        out = run(typed, fresh, env)
        assert out.returncode == 0, (typed, out.stderr)
        assert out.stdout.startswith("#!/bin/bash") and f"{shared}/" in out.stdout
    assert list(shared.iterdir()) == []  # a dry run creates nothing
    listed = run("simsiam-tui slurm ls", fresh, env)
    assert listed.returncode == 0 and "Slurm runs in" in listed.stdout, listed.stderr
    app = Terminal(argv_of(f"simsiam-tui watch {shared}"), fresh, env)
    try:
        wait_for(lambda: b"no runs in" in app.output, 60, "the app to open on the shared folder", poll=0.2)
    finally:
        assert app.quit() == 0


def test_relative_runs_folder_is_absolute_in_sbatch_scripts(fresh):
    """`slurm submit --runs rel`: the script names the run folder by its absolute path (the job starts elsewhere)."""
    out = run("simsiam-tui slurm submit --preset simsiam --scale digits --dry-run --runs rel", fresh)
    assert out.returncode == 0, out.stderr
    absolute = str((fresh / "rel").resolve())
    assert f"{absolute}/" in out.stdout
    assert " rel/" not in out.stdout and "=rel/" not in out.stdout


# -- the ones that train ----------------------------------------------------------------------------


@pytest.mark.slow
def test_design_card_launch_no_predictor(fresh):
    """`simsiam-tui launch --preset no-predictor --scale digits --set train.epochs=1` from a fresh folder finishes."""
    out = run("simsiam-tui launch --preset no-predictor --scale digits --set train.epochs=1", fresh)
    assert out.returncode == 0, out.stderr
    (row,) = wait_for(all_ended(fresh, 1), RUN_TIMEOUT, "the run to end")
    log = Path(row["dir"], "worker.log").read_text()
    assert row["state"] == "finished", log
    assert Path(row["dir"]).parent == (fresh / "runs").resolve()
    assert re.search(r"epoch 1/1  step 21/21  loss -?\d\.\d{4}  z_std/ref \d\.\d\d  rank [\d.]+  kNN 0\.\d{3}", log), log


@pytest.mark.slow
def test_first_runs_block_as_typed(fresh):
    """The README's second block, line by line, in a fresh folder: launch, ls, logs -f, compare, the app."""
    block = sh_commands(README.read_text())
    launch, ls, logs, compare, app = block[1:6]
    assert launch.startswith("simsiam-tui launch --suite stop-grad") and app == "simsiam-tui"
    out = run(launch, fresh)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(str((fresh / "runs").resolve())) == 2
    followed = run(logs, fresh, timeout=RUN_TIMEOUT)  # -f returns once the run has ended
    assert followed.returncode == 0, followed.stderr
    assert "epoch 1/1  step 21/21" in followed.stdout and "kNN" in followed.stdout
    rows = wait_for(all_ended(fresh, 2), RUN_TIMEOUT, "both runs to end")
    assert {r["variant"]: r["state"] for r in rows} == {"simsiam": "finished", "no-stop-grad": "finished"}
    table = run(ls, fresh)
    assert table.returncode == 0, table.stderr
    for column in ("epoch", "loss", "verdict"):
        assert column in table.stdout
    assert table.stdout.count("1.0/1") == 2
    assert all(r["verdict"] in ("healthy", "collapsing", "collapsed") and r["loss_last"] is not None for r in rows)
    compared = run(compare, fresh)
    assert compared.returncode == 0 and "no-stop-grad" in compared.stdout, compared.stderr
    term = Terminal(argv_of(app), fresh, newcomer_env())
    try:
        wait_for(lambda: b"no-stop-grad" in term.output, 60, "the app to show the runs", poll=0.2)
    finally:
        assert term.quit() == 0


@pytest.mark.slow
def test_sweep_block_as_typed(fresh):
    """The Groups block as typed: a 2-point sweep with 2 seeds each, then compare by the swept key: 2 rows, n = 2, ±."""
    commands = sh_commands(README.read_text())
    at = next(i for i, c in enumerate(commands) if "--sweep" in c)
    launch, compare = commands[at], commands[at + 1]
    out = run(launch, fresh)
    assert out.returncode == 0, out.stderr
    rows = wait_for(all_ended(fresh, 4), RUN_TIMEOUT, "the four sweep runs to end")
    assert all(r["state"] == "finished" for r in rows), rows
    table = run(compare, fresh)
    assert table.returncode == 0, table.stderr
    groups = json.loads(run(f"{compare} --json", fresh).stdout)
    assert sorted((g["label"], g["n"]) for g in groups) == [("0.01", 2), ("0.05", 2)]
    assert table.stdout.count("±") >= 2 and "compare by optim.lr" in table.stdout


@pytest.mark.slow
def test_quick_start_demo_in_a_terminal(fresh):
    """`simsiam-tui demo` as typed (the app in a terminal): both runs get going; `q` quits and they keep going."""
    command = sh_commands(README.read_text())[0].split("&& ", 1)[1]
    assert command == "simsiam-tui demo"
    term = Terminal(argv_of(command), fresh, newcomer_env())
    try:
        def both_going() -> list[dict[str, Any]] | None:
            rows = runs_json(fresh) if (fresh / "runs").is_dir() else []
            going = len(rows) == 2 and all(r["state"] in ("running", "finished") for r in rows)
            return rows if going else None

        rows = wait_for(both_going, RUN_TIMEOUT, "both demo runs to be running or finished")
        assert {r["variant"] for r in rows} == {"simsiam", "no-stop-grad"}
        assert all(Path(r["dir"]).parent == (fresh / "runs").resolve() for r in rows)
        wait_for(lambda: b"no-stop-grad" in term.output, 60, "the app to show the runs", poll=0.2)
    finally:
        assert term.quit() == 0
    assert {r["state"] for r in runs_json(fresh)} <= {"running", "finished"}  # quitting the app leaves the runs


@pytest.mark.slow
def test_demo_no_app_then_stop_and_resume_from_another_folder(fresh, tmp_path):
    """`demo --no-app`; stop a run; resume it with a relative --runs from another folder: it continues its steps."""
    out = run("simsiam-tui demo --no-app --set train.epochs=20", fresh)
    assert out.returncode == 0, out.stderr
    assert "launched 2 run(s)" in out.stdout and str((fresh / "runs").resolve()) in out.stdout
    target = next(r for r in runs_json(fresh) if r["variant"] == "simsiam")
    wait_for(lambda: Path(target["dir"], "checkpoints", "last.pt").exists(), RUN_TIMEOUT, "a checkpoint")
    stopped = run(f"simsiam-tui runs stop {target['id']} --wait", fresh)
    assert stopped.returncode == 0 and "[stopped]" in stopped.stdout, (stopped.stdout, stopped.stderr)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    resumed = run(f"simsiam-tui runs resume {target['id']} --runs ../newcomer/runs", elsewhere)
    assert resumed.returncode == 0, resumed.stderr

    def resumed_start() -> bool:
        lines = Path(target["dir"], "events.jsonl").read_text().splitlines()
        starts = [e for e in map(json.loads, lines) if e.get("kind") == "start"]
        return len(starts) == 2 and (starts[-1]["resumed_from_step"] or 0) > 0

    wait_for(resumed_start, RUN_TIMEOUT, "the resumed worker's start event")
    assert {r["id"]: r["state"] for r in runs_json(fresh)}[target["id"]] in ("running", "finished")
