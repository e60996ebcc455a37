"""The one map from the configs of earlier versions to today's keys and meanings.

Run folders written before the per-method sections hold flat keys (method.vicreg_lambda, ...) in config.json;
`runs resume`, the worker and every reader load them through `upgrade`. A shared key goes to every method that read
it, so an old run keeps exactly the values it trained with.

Meanings that changed are marked by a key that every config written since holds: VICReg's `std_branches`. A config
(a stored config.json, or a preset written before the change) that sets VICReg's mu without saying how the two
branches combine predates the change and trained with the sum (the paper's eq. 6), so it is read as "sum".
"""

from __future__ import annotations

from typing import Any

LEGACY_KEYS: dict[str, tuple[str, ...]] = {
    "method.temperature": ("method.simclr.temperature", "method.moco.temperature", "method.instdisc.temperature"),
    "method.queue_size": ("method.moco.queue_size",),
    "method.bank_negatives": ("method.instdisc.negatives",),
    "method.bank_momentum": ("method.instdisc.bank_momentum",),
    "method.ema_momentum": ("method.moco.momentum", "method.byol.base_momentum"),
    "method.vicreg_lambda": ("method.vicreg.sim_coeff",),
    "method.vicreg_mu": ("method.vicreg.std_coeff",),
    "method.vicreg_nu": ("method.vicreg.cov_coeff",),
    "method.bt_lambda": ("method.barlow_twins.lambd",),
}
# key -> (the keys whose presence, without it, marks a config written before it, the value such a config meant)
MEANING_MARKERS: dict[str, tuple[tuple[str, ...], Any]] = {
    "method.vicreg.std_branches": (("method.vicreg.std_coeff", "method.vicreg_mu"), "sum"),
}


def upgrade(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys with every legacy key replaced by its new keys (a new key given beside its old one wins), and the
    meaning markers a pre-change config lacks filled in with what it meant."""
    out = {k: v for k, v in flat.items() if k not in LEGACY_KEYS}
    for marker, (keys, meant) in MEANING_MARKERS.items():
        if marker not in out and any(k in flat for k in keys):
            out[marker] = meant
    for old, news in LEGACY_KEYS.items():
        if old in flat:
            for new in news:
                out.setdefault(new, flat[old])
    return out


def moved_hint(key: str) -> str:
    """'; now X (or Y)' for a legacy key, '' for any other."""
    news = LEGACY_KEYS.get(key)
    return f"; it moved to the method's own section: {' or '.join(news)}" if news else ""
