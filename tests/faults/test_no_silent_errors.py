"""No broad exception handler in the package swallows an error silently (the GPU path hid a TypeError that way)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "simsiam_tui"
BROAD = {"Exception", "BaseException"}


def _names(node: ast.expr | None) -> set[str]:
    if node is None:
        return {"<bare>"}
    if isinstance(node, ast.Tuple):
        return set().union(*(_names(e) for e in node.elts))
    return {node.id} if isinstance(node, ast.Name) else {ast.unparse(node)}


def _silent(handler: ast.ExceptHandler) -> bool:
    """A broad handler is silent unless it re-raises or uses the exception it caught."""
    if any(isinstance(n, ast.Raise) for n in ast.walk(handler)):
        return False
    if handler.name is None:
        return True
    return not any(isinstance(n, ast.Name) and n.id == handler.name for b in handler.body for n in ast.walk(b))


def test_no_broad_handler_swallows_errors() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ExceptHandler) and (_names(node.type) & (BROAD | {"<bare>"})) and _silent(node):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, "silent broad exception handlers: " + ", ".join(offenders)


def test_the_checker_catches_a_silent_handler() -> None:
    """Control: the rule flags `except Exception: pass` and accepts a handler that reports."""
    silent = ast.parse("try:\n    f()\nexcept Exception:\n    pass\n").body[0].handlers[0]  # type: ignore[attr-defined]
    reported = ast.parse("try:\n    f()\nexcept Exception as e:\n    log(e)\n").body[0].handlers[0]  # type: ignore[attr-defined]
    assert _silent(silent) and not _silent(reported)
