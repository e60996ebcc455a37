"""The one map from the flat method keys of earlier versions (method.vicreg_lambda, ...) to the methods' own sections.

Run folders written before the per-method sections hold these keys in config.json; `runs resume`, the
worker and every reader load them through `upgrade`. A shared key goes to every method that read it,
so an old run keeps exactly the values it trained with.
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


def upgrade(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted keys with every legacy key replaced by its new keys; a new key given beside its old one wins."""
    out = {k: v for k, v in flat.items() if k not in LEGACY_KEYS}
    for old, news in LEGACY_KEYS.items():
        if old in flat:
            for new in news:
                out.setdefault(new, flat[old])
    return out


def moved_hint(key: str) -> str:
    """'; now X (or Y)' for a legacy key, '' for any other."""
    news = LEGACY_KEYS.get(key)
    return f"; it moved to the method's own section: {' or '.join(news)}" if news else ""
