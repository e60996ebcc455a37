"""printable(): text from a run folder reaches the terminal with every control character escaped."""

from __future__ import annotations

import pytest

from simsiam_tui.store.text import printable

HOSTILE = "\x1b[2J\x1b]0;pwned\x07"  # clear the screen, set the window title, ring the bell


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),  # ESC
        ("ding\x07", "ding\\x07"),  # BEL
        ("fake\rreal", "fake\\rreal"),  # CR: would overwrite the line
        ("ab\x08c", "ab\\x08c"),  # backspace
        ("\x9b2J", "\\x9b2J"),  # the one-byte C1 CSI
        ("\x7f", "\\x7f"),  # DEL
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override: text that reads backwards
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("line\u2028sep", "line\\u2028sep"),
        ("tag\U000e0041", "tag\\U000e0041"),
        ("bad\udcffbyte", "bad\\udcffbyte"),  # a lone surrogate (surrogateescape) could not even be encoded
        (HOSTILE, "\\x1b[2J\\x1b]0;pwned\\x07"),
    ],
)
def test_control_characters_become_visible_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert not _has_control(printable(raw))


def test_newlines_and_tabs_are_escaped_unless_kept() -> None:
    assert printable("a\nb\tc") == "a\\nb\\tc"
    assert printable("a\nb\tc\x1b", keep_newlines=True) == "a\nb\tc\\x1b"
    assert printable("a\r\nb", keep_newlines=True) == "a\\r\nb"  # only newline and tab are kept


@pytest.mark.parametrize("text", ["simsiam", "café 日本語 🙂", "loss = -0.91", "a b\u00a0c", "[bold]x[/]", "C:\\runs"])
def test_printable_text_is_left_as_it_is(text: str) -> None:
    assert printable(text) == text


def test_non_strings_idempotence_and_empty() -> None:
    assert printable(None) == "None" and printable(3) == "3" and printable(["\x1b"]) == "['\\x1b']"
    assert printable("") == ""
    once = printable(HOSTILE + "\u202e\n")
    assert printable(once) == once  # escaping twice changes nothing: layers may each escape
