"""Text read from a run folder, made safe to print: control characters become visible escapes.

A run folder may be written by anyone who shares the runs root, so a status message, a run name or a
log line may carry terminal escape sequences (clear the screen, set the window title, move the cursor)
or bidi overrides that make text read backwards. Whatever reaches a terminal goes through `printable`.
"""

from __future__ import annotations

import unicodedata

# Unicode categories shown as escapes: controls (C0, C1, DEL), format characters (bidi overrides,
# zero-width marks), lone surrogates (undecodable bytes), private use, unassigned, line and paragraph
# separators. Spaces (Zs) stay: they only look like spaces.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_KEPT_IF_ASKED = frozenset("\n\t")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}  # as Python writes them: easier to read than \x0a


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object, keep_newlines: bool = False) -> str:
    """`text` as a string with every control or invisible character written as an escape (`\\x1b`, `\\u202e`).

    Newlines and tabs are escaped too unless `keep_newlines` (a multi-line message; log lines keep none).
    A backslash is left as it is, so printable(printable(x)) == printable(x).
    """
    text = text if isinstance(text, str) else str(text)
    if text.isprintable():  # the common case: plain names and numbers, no per-character work
        return text
    kept = _KEPT_IF_ASKED if keep_newlines else frozenset()
    return "".join(
        char if char in kept or unicodedata.category(char) not in _HIDDEN else _escape(char) for char in text
    )
