"""`python -m simsiam_tui.train RUN_DIR`: start or resume the run held in RUN_DIR."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the single RUN_DIR argument and run the worker; user errors print one line, exit 2."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: python -m simsiam_tui.train RUN_DIR", file=sys.stderr)
        return 2
    from simsiam_tui.store import resolve_path
    from simsiam_tui.train.errors import UserFacingError
    from simsiam_tui.train.worker import run_worker

    try:
        return run_worker(resolve_path(args[0]))
    except UserFacingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
