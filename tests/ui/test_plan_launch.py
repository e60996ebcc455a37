"""The launch dialog validates --gpus with the launcher's one parse_gpus: same values, same message as the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from simsiam_tui.errors import SimsiamError
from simsiam_tui.launch import parse_gpus
from simsiam_tui.ui.actions import LaunchForm, plan_launch
from tests.fakes import gpu, use_fake_nvml


@pytest.mark.parametrize(("field", "gpus"), [("", None), ("all", None), ("cpu", []), ("0, 2,2", [0, 2])])
def test_gpus_field_means_what_the_cli_option_means(
    field: str, gpus: list[int] | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_nvml(monkeypatch, tmp_path, [gpu(0), gpu(1), gpu(2)])  # the dialog checks them as a launch does
    plan = plan_launch(LaunchForm(presets=["simsiam"], scale="digits", gpus=field))
    assert plan.gpus == gpus == (parse_gpus(field) if field else None)


def test_bad_gpus_field_is_the_cli_message() -> None:
    with pytest.raises(SimsiamError) as dialog:
        plan_launch(LaunchForm(presets=["simsiam"], scale="digits", gpus="0,x"))
    with pytest.raises(SimsiamError) as cli:
        parse_gpus("0,x")
    assert str(dialog.value) == str(cli.value)
