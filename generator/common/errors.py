"""The one error a bad input raises: ``ConfigError``, reported by the CLI as one line and exit 2.

It lives in the bottom layer so that every layer that validates input (the config sections, the
CLI's arguments, the output directories) raises the same error without importing the config module.
"""

from __future__ import annotations

import math
import os
import reprlib

MAX_LINE = 300  # a ConfigError's whole line, "config error: ..." included


def _one_line(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (ending in '...'), control characters escaped (no newline)."""
    text = text[: limit + 1]  # cut first: escaping a 50 MB string character by character is slow
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ConfigError(ValueError):
    """A config problem, reported as one line: ``config error: <field>: <problem>``.

    Whatever the caller passes, the line has no control characters and at most MAX_LINE characters,
    so a hostile value (a 50 MB string, a key with a newline) cannot flood or split the report.
    """

    def __init__(self, field_name: str, problem: str):
        self.field = _one_line(str(field_name), 80)
        self.problem = _one_line(str(problem), MAX_LINE)
        super().__init__(_one_line(f"config error: {self.field}: {self.problem}", MAX_LINE))


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 4
_REPR.maxlevel = 2


def _short(value) -> str:
    """A repr of ``value`` of at most 60 characters, cheap for any size (reprlib cuts strings and lists
    before formatting them; an integer of thousands of digits is described, as repr() refuses it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        # 2**(b-1) <= |value| < 2**b gives the digit count to within one; one comparison settles it
        digits = int((value.bit_length() - 1) * math.log10(2)) + 1
        digits += abs(value) >= 10**digits
        return f"an integer of {digits} digits"
    try:
        text = _REPR.repr(value)
    except ValueError:  # a huge integer nested in a list
        text = f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def _short_path(path) -> str:
    """The path for a message: its end (the file name) when it is long."""
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    return text if len(text) <= 80 else "..." + text[-77:]
