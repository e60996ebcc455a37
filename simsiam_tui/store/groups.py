"""Groups are configurations: runs are pooled into one mean ± std only when their resolved configs are equal.

`runs compare --by KEY[,KEY]` groups runs by config keys (`variant` is the preset name). Within a group,
replicas pool only when every other config key is equal too, except the seed and run bookkeeping (names,
paths, the group label); a group whose runs differ is split, and each part is labelled by the keys that
differ (`no-stop-grad (train.epochs=2)`). A 2-epoch and a 50-epoch run are two experiments, never one mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from simsiam_tui.store.paths import StoreError

# Keys that say which run this is, not what it trained: never a reason to split a group.
BOOKKEEPING = frozenset(
    {
        "train.seed",
        "group",
        "description",
        "sweep",
        "data.dir",
        "linear_eval.source_run",
        "linear_eval.source_dir",
        "linear_eval.checkpoint",
        "monitor.flush_every_s",
        "monitor.system_every_s",
    }
)
EVAL_PREFIX = "eval:"  # a source run's linear-evaluation protocol, as keys of its group identity


def flat_config(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """config.json as dotted keys (`optim.lr`); lists as JSON text, so that every value is hashable."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, f"{name}."))
        else:
            out[name] = json.dumps(value, sort_keys=True) if isinstance(value, list) else value
    return out


def parse_where(items: list[str]) -> dict[str, str]:
    """`--where KEY=VALUE` (repeatable) as {key: value}; StoreError for an item without '='."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise StoreError(f"--where {item!r} is not KEY=VALUE (for example --where train.epochs=50)")
        out[key.strip()] = value.strip()
    return out


def shown(value: Any) -> str:
    """A config value as a person types it: 0.03, true, simsiam."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "-" if value is None else str(value)


def matches(flat: dict[str, Any], where: dict[str, str]) -> bool:
    """True when every `--where` key has that value (compared as typed: 0.03 matches 0.030)."""
    for key, want in where.items():
        have = flat.get(key)
        if isinstance(have, (int, float)) and not isinstance(have, bool):
            try:
                if float(want) != float(have):
                    return False
            except ValueError:
                return False
        elif shown(have) != want:
            return False
    return True


@dataclass
class Group:
    """Runs whose configs are equal but for seeds and bookkeeping: one row of a comparison."""

    by: dict[str, Any]  # the --by keys' values
    split: dict[str, Any]  # keys that set this part apart from others with the same --by values
    members: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        head = ", ".join(shown(v) for v in self.by.values())
        if not self.split:
            return head
        return f"{head} ({', '.join(f'{k.removeprefix(EVAL_PREFIX)}={shown(v)}' for k, v in self.split.items())})"


def identity(flat: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What a run trained: every config key but the bookkeeping, sorted."""
    return tuple(sorted((k, v) for k, v in flat.items() if k not in BOOKKEEPING))


def _differing(parts: list[dict[str, Any]]) -> list[str]:
    keys = sorted(set().union(*parts))
    return [k for k in keys if len({json.dumps(p.get(k), sort_keys=True, default=str) for p in parts}) > 1]


def group_runs(rows: list[dict[str, Any]], configs: list[dict[str, Any]], by: list[str]) -> list[Group]:
    """Rows (with their flat configs, in the same order) grouped by `by`, then split by any other config difference.

    A source run's linear-evaluation protocol (`eval:linear_eval.epochs`, ...) is part of what it is
    compared on: two evaluations with different epochs never share a column. A run without an
    evaluation joins the one protocol its group has, if there is exactly one.
    """
    keyed: dict[tuple[str, ...], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for row, flat in zip(rows, configs, strict=True):
        keyed.setdefault(tuple(shown(flat.get(k)) for k in by), []).append((row, flat))
    groups: list[Group] = []
    for members in keyed.values():
        by_values = {k: members[0][1].get(k) for k in by}
        parts: dict[tuple[tuple[str, Any], ...], list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for row, flat in members:
            parts.setdefault(identity(flat), []).append((row, flat))
        parts = _merge_runs_without_eval(parts)
        idents = [dict(ident) for ident in parts]
        differ = _differing(idents) if len(parts) > 1 else []
        for ident, part in zip(idents, parts.values(), strict=True):
            split = {k: ident.get(k) for k in differ}
            groups.append(Group(by_values, split, [row for row, _ in part]))
    return groups


def _merge_runs_without_eval(
    parts: dict[tuple[tuple[str, Any], ...], list[tuple[dict[str, Any], dict[str, Any]]]],
) -> dict[tuple[tuple[str, Any], ...], list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Runs with no linear evaluation join the part of equal config that has one, when there is only one."""
    def base(ident: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
        return tuple(item for item in ident if not item[0].startswith(EVAL_PREFIX))

    out = dict(parts)
    for ident in list(parts):
        if base(ident) != ident:
            continue
        evaluated = [other for other in parts if other != ident and base(other) == ident]
        if len(evaluated) == 1:
            out[evaluated[0]] = out[evaluated[0]] + out.pop(ident)
    return out
