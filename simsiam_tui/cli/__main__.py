"""`python -m simsiam_tui.cli`: the same as the `simsiam-tui` console script."""

from __future__ import annotations

from simsiam_tui.cli.main import main

main()
