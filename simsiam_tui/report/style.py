"""How figures look: a colour fixed per variant (the same in every figure), a line style per replica, paper and
slide sizes. Plain data, no matplotlib."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

# Every shipped preset has its own colour, so simsiam is the same blue in every figure and every suite's
# variants differ: Okabe-Ito first (distinct for colour-blind readers), then Tol's muted colours.
VARIANT_COLORS = {
    "simsiam": "#0072B2",
    "no-stop-grad": "#D55E00",
    "no-stop-grad-half": "#EE7733",
    "no-predictor": "#E69F00",
    "fixed-random-predictor": "#CC79A7",
    "asymmetric": "#009E73",
    "asymmetric-no-predictor": "#44AA99",
    "cross-entropy": "#56B4E9",
    "sg-encoder-mlp": "#882255",
    "sg-after-encoder-two-mlps": "#BBBBBB",
    "end-to-end": "#117733",
    "memory-bank": "#999933",
    "momentum": "#EE3377",
    "byol": "#332288",
    "byol-m0": "#6699CC",
    "vicreg": "#DDAA33",
    "barlow-twins": "#661100",
}
# Variants the product does not ship (a user's preset): a colour from their name's hash, the same in every figure.
OTHER_COLORS = ("#BB5566", "#4477AA", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#777777", "#004488")
LineStyle = str | tuple[float, tuple[float, ...]]  # matplotlib's: a name, or (offset, dash and gap lengths)
REPLICA_STYLES: tuple[LineStyle, ...] = (
    "-",
    (0, (5, 2)),
    (0, (1, 1.5)),
    (0, (6, 2, 1, 2)),
    (0, (3, 1, 1, 1, 1, 1)),
    (0, (8, 3)),
)


def variant_color(variant: str) -> str:
    """The variant's colour: fixed for shipped presets, from a hash of its name for any other."""
    return VARIANT_COLORS.get(variant) or OTHER_COLORS[zlib.crc32(variant.encode()) % len(OTHER_COLORS)]


def replica_style(index: int) -> LineStyle:
    """The line style of a variant's `index`-th separate run (its first run is solid)."""
    return REPLICA_STYLES[index % len(REPLICA_STYLES)]


@dataclass(frozen=True)
class Style:
    """Sizes for one medium: figure width, height per panel, fonts, line width, how panels are laid out."""

    name: str
    width: float  # inches
    panel_height: float
    font: float
    line: float
    stacked: bool  # panels one above the other (a paper column), else side by side
    dpi: int


STYLES = {
    # one column of a two-column paper (3.4 in), panels stacked, 7 pt type as in the body's captions
    "paper": Style("paper", 3.4, 1.45, 7.0, 1.0, True, 300),
    # a 16:9 slide, panels side by side, type readable from the back of a room
    "slide": Style("slide", 13.33, 4.2, 14.0, 2.2, False, 150),
}
