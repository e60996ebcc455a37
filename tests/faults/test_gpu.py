"""The GPU path without a GPU: a fake pynvml (2 to 8 GPUs, load, memory, processes, a GPU that raises)."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path

import pytest

from simsiam_tui.store import read_events, read_status
from tests.fakes import FAKES, gpu, nvml_env, use_fake_nvml
from tests.helpers import pilot_wait_until
from tests.launch.conftest import TINY

from .conftest import cli_env, one_line_error, run_cli, wait_until


@pytest.mark.parametrize("count", [2, 8])
def test_gpus_command_shows_what_the_driver_reports(tmp_path: Path, count: int) -> None:
    gpus = [
        gpu(i, util=10 * i, mem_used_mb=1000 + i, procs=[{"pid": 5000 + i, "mem_mb": 256 + i}]) for i in range(count)
    ]
    gpus[0] = gpu(0, raises="GPU is lost")
    env = cli_env(**nvml_env(tmp_path, gpus))
    data = json.loads(run_cli("gpus", "--json", env=env).stdout)
    assert [g["index"] for g in data["gpus"]] == list(range(1, count))
    last = data["gpus"][-1]
    assert last["util_pct"] == 10.0 * (count - 1) and last["mem_used_mb"] == 1000 + count - 1
    assert last["processes"] == [{"pid": 5000 + count - 1, "mem_used_mb": 256.0 + count - 1}]
    assert "GPU is lost" in json.dumps(data["probe_errors"])
    text = run_cli("gpus", env=env)
    assert text.returncode == 0 and "Fake H100 #1" in text.stdout and "GPU is lost" in text.stdout
    assert "Traceback" not in text.stderr


def test_gpus_command_without_a_driver(tmp_path: Path) -> None:
    proc = run_cli("gpus", env=cli_env(**nvml_env(tmp_path, [], init_error="Driver Not Loaded")))
    assert proc.returncode == 0 and "Driver Not Loaded" in proc.stdout


def _sleeper_env(tmp_path: Path, count: int) -> dict[str, str]:
    env = cli_env(**nvml_env(tmp_path, [gpu(i) for i in range(count)]))
    env["SIMSIAM_TUI_WORKER"] = f"{sys.executable} {FAKES / 'sleeper.py'} {{run_dir}}"
    return env


def _launched(root: Path, env: dict[str, str], *args: str) -> list[dict]:
    proc = run_cli("launch", "--preset", "simsiam", "--preset", "simsiam", "--preset", "simsiam", "--scale", "digits",
                   "--runs", str(root), "--json", *args, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    "args, expected", [(["--gpus", "1,3"], ["1", "3"]), (["--gpus", "2", "--per-gpu", "2"], ["2", "2"])]
)
def test_slot_assignment_follows_gpus_and_per_gpu(
    root: Path, tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    runs = _launched(root, _sleeper_env(tmp_path, 4), *args)
    dirs = [Path(r["dir"]) for r in runs]
    wait_until(lambda: sum((d / "visible_gpus.txt").exists() for d in dirs) == 2, 30, "two workers to start")
    visible = sorted((d / "visible_gpus.txt").read_text() for d in dirs if (d / "visible_gpus.txt").exists())
    assert visible == expected
    states = sorted((read_status(d / "status.json") or {}).get("state") for d in dirs)
    assert states == ["queued", "starting", "starting"]  # the third waits for a slot


def test_a_gpu_that_is_not_there_is_one_line(root: Path, tmp_path: Path) -> None:
    proc = run_cli("launch", "--preset", "simsiam", "--scale", "digits", "--gpus", "5", "--runs", str(root),
                   env=_sleeper_env(tmp_path, 4))  # fmt: skip
    one_line_error(proc, "GPU 5 is not visible")


@pytest.mark.slow
def test_system_events_carry_the_runs_gpu_util_and_memory(root: Path, tmp_path: Path) -> None:
    gpus = [gpu(0, util=5), gpu(1, util=77, mem_used_mb=12345, mem_total_mb=81920, fail=["processes"])]
    env = cli_env(**nvml_env(tmp_path, gpus))
    proc = run_cli("launch", "--preset", "simsiam", *TINY, "--set", "train.epochs=1", "--gpus", "1", "--runs", str(root),
                   "--json", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(json.loads(proc.stdout)[0]["dir"])
    wait_until(
        lambda: (read_status(run_dir / "status.json") or {}).get("state") in ("finished", "failed"), 300, "the run"
    )
    assert read_status(run_dir / "status.json")["state"] == "finished", (run_dir / "worker.log").read_text()
    system = [e for e in read_events(run_dir / "events.jsonl") if e["kind"] == "system"]
    assert system, "no system events"
    assert all(e["gpu_index"] == 1 and e["gpu_util_pct"] == 77.0 for e in system)
    assert all(e["gpu_mem_used_mb"] == 12345.0 and e["gpu_mem_total_mb"] == 81920.0 for e in system)
    log = (run_dir / "worker.log").read_text()
    assert log.count("probe: gpu processes") == 1, log  # the probe's first failure, said once


def test_runs_table_gpu_column_and_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simsiam_tui.store import update_status
    from simsiam_tui.ui.actions import Backend
    from tests.ui.conftest import make_app
    from tests.ui.fixtures import write_run

    use_fake_nvml(monkeypatch, tmp_path, [gpu(0, util=12), gpu(1, util=77, mem_used_mb=40960)])
    root = tmp_path / "runs"
    paths = write_run(root, "20260101-000001-simsiam-a1b2", "simsiam", 2.0, state="finished", host=socket.gethostname())
    update_status(paths.status, gpus=[1], host=socket.gethostname())
    app = make_app([root], Backend())
    app.poller.gpu_every = 0.05

    async def check() -> None:
        async with app.run_test(size=(160, 44)) as pilot:
            await pilot_wait_until(
                pilot, lambda: app.table.row_count and len(app.poller.gpus) == 2, 30, "the app to show the run and both GPUs"
            )
            row = app.table.get_row_at(0)
            keys = [c.key.value for c in app.table.ordered_columns]
            assert str(row[keys.index("gpu")]) == "1"
            app.refresh_gpu_panel()
            panel = str(app.gpu_panel.render())
            assert "GPU1" in panel and "77%" in panel and "40.0/80.0 GB" in panel

    asyncio.run(check())
