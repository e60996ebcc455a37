"""Property tests: nothing a file can hold makes the events reader or the config loader raise an unexpected error."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simsiam_tui.config import ConfigError, parse_config_file, parse_override, resolve_config, valid_keys
from simsiam_tui.store import EventTail, RunHistory, dedupe_events, judge
from simsiam_tui.store.reader import valid_event
from simsiam_tui.ui.fastread import parse_lines

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KNOWN = ["v", "kind", "time", "step", "epoch", "loss", "lr", "z_std", "z_std_ref", "img_per_s", "data_wait",
         "std_quantiles", "effective_rank", "dim", "knn_top1", "linear_top1", "seconds", "resumed_from_step",
         "num_classes", "state", "reason", "exit_code", "gpu_util_pct", "gpu_mem_used_mb"]  # fmt: skip
KINDS = ["start", "train", "collapse", "eval", "system", "checkpoint", "end", "other"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
events = st.dictionaries(st.sampled_from(KNOWN), json_values, max_size=8).flatmap(
    lambda d: st.sampled_from(KINDS).map(lambda kind: {**d, "kind": kind})
)
# events that look right but for one field: a resume followed by a step of the wrong type is the classic crash
near_events = st.fixed_dictionaries(
    {"kind": st.sampled_from(KINDS), "step": st.integers(0, 20) | json_values, "epoch": st.floats(0, 5) | json_values},
    optional={"resumed_from_step": st.integers(0, 20) | json_values, "loss": st.floats() | json_values},
)


def _consume(path: Path, data: bytes, chunks: int = 3) -> list[dict[str, Any]]:
    """Write `data` in pieces, polling after each, as a live tail would; everything downstream of the reader too."""
    tail, out = EventTail(path), []
    path.write_bytes(b"")
    step = max(1, len(data) // chunks)
    for i in range(0, len(data) + 1, step):
        with path.open("ab") as fh:
            fh.write(data[i : i + step])
        out += tail.poll()
    assert all(valid_event(e) for e in out)
    kept = dedupe_events(out)
    history = RunHistory()
    history.apply(kept)
    judge(history, 10)
    parse_lines(data[: data.rfind(b"\n") + 1], EventTail(path))
    return out


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_out_of_the_reader(tmp_path: Path, data: bytes) -> None:
    _consume(tmp_path / "events.jsonl", data)


@SETTINGS
@given(lines=st.lists(json_values | events | near_events, max_size=12))
def test_arbitrary_json_never_raises_out_of_the_reader(tmp_path: Path, lines: list[Any]) -> None:
    resume = {"v": 1, "kind": "start", "time": 1.0, "step": 3, "epoch": 0.5, "resumed_from_step": 3}
    for order in (lines, [*lines, resume]):  # a resume makes the reader compare every earlier step with it
        text = "".join(json.dumps(v) + "\n" for v in order)  # NaN and Infinity included, as Python writes them
        _consume(tmp_path / "events.jsonl", text.encode())


@SETTINGS
@given(lines=st.lists(events | near_events, max_size=12))
def test_well_typed_events_are_all_kept(tmp_path: Path, lines: list[dict[str, Any]]) -> None:
    good = [e for e in lines if valid_event(e)]
    text = "".join(json.dumps(e) + "\n" for e in good)
    assert len(_consume(tmp_path / "events.jsonl", text.encode())) == len(good)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


toml_scalars = st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
toml_values = toml_scalars | st.lists(toml_scalars, max_size=3)
keys = st.sampled_from(
    [*valid_keys(), "method", "at", "at.digits", "at.digits.train.epochs", "bogus.key", "train", "x"]
)
overrides = st.text(max_size=40) | st.tuples(st.sampled_from(valid_keys()), st.text(max_size=12)).map("=".join)


@SETTINGS
@given(entries=st.lists(st.tuples(keys, toml_values), max_size=8))
def test_toml_values_only_ever_raise_config_errors(tmp_path: Path, entries: list[tuple[str, Any]]) -> None:
    lines = []
    for key, value in entries:
        section, _, name = key.rpartition(".")
        lines.append(f"[{section}]\n{name} = {_toml_value(value)}" if section else f"{name} = {_toml_value(value)}")
    _load_preset(tmp_path, "\n".join(lines[::-1]).encode())


@SETTINGS
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_as_a_preset_only_raise_config_errors(tmp_path: Path, data: bytes) -> None:
    _load_preset(tmp_path, data)


def _load_preset(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "fuzz.toml").write_bytes(data)
    try:
        resolve_config("fuzz", "digits", presets_dir=tmp_path)
    except ConfigError:
        pass  # the one error type a bad file may cause


@SETTINGS
@given(value=json_values, override=overrides)
def test_arbitrary_json_configs_and_overrides_only_raise_config_errors(
    tmp_path: Path, value: Any, override: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(value))
    for call in (lambda: parse_config_file(path.read_bytes(), path), lambda: parse_override(override),
                 lambda: resolve_config("simsiam", "digits", [override])):  # fmt: skip
        try:
            call()
        except ConfigError:
            pass
