"""Badges: a verdict or health label in a table cell, shown as a coloured chip that keeps its word.

Contract: a :class:`Badge` is a ``str`` (the plain localized word, so pages and tests compare it with
catalog text) that carries its kind, one of :data:`BADGE_KINDS`; :func:`badge_markup` is the cell
Markdown ``md_table`` (generator/render/filters.py) writes for it, the text escaped like any cell. Colour is
never the only cue (WCAG 1.4.1): the word stays. Colours: site/assets/initlab.css (.initlab-badge--KIND).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from generator.render.markdown import FilterError, Md, _escape_text

BADGE_KINDS = (
    "holds",
    "partly",
    "inconclusive",
    "does_not_hold",  # generator/analysis/verdicts.py
    "ok",
    "vanishes",
    "explodes",
    "saturates",  # health labels (analysis/health.py)
    "diverged",
    "neutral",
)  # a run blew up / nothing to judge


class Badge(str):
    """A localized label that ``md_table`` (generator/render/filters.py) shows as ``<span class="initlab-badge
    initlab-badge--KIND">word</span>``; everywhere else it is the plain word (a ``str``), so pages and
    tests compare it with catalog text as before. ``Badge(text, kind)`` is one chip;
    :meth:`join` puts several in one cell ("saturates / grad explodes") and :meth:`suffixed` appends
    plain text (a footnote mark). ``segments``: ``(text, kind)`` pairs, ``kind`` None for plain text."""

    segments: tuple[tuple[str, str | None], ...]

    def __new__(cls, text: Any, kind: str) -> Badge:
        if kind not in BADGE_KINDS:
            raise FilterError(f"badge: unknown kind {kind!r}; valid: {', '.join(BADGE_KINDS)}")
        return cls._of(((str(text), kind),))

    @classmethod
    def _of(cls, segments) -> Badge:
        obj = str.__new__(cls, "".join(text for text, _ in segments))
        obj.segments = tuple(segments)
        return obj

    @classmethod
    def join(cls, badges: Sequence[Badge], sep: str = " / ") -> Badge:
        segs: list[tuple[str, str | None]] = []
        for i, b in enumerate(badges):
            segs += ([(sep, None)] if i else []) + list(b.segments)
        return cls._of(segs)

    def suffixed(self, text: str) -> Badge:
        return self if not text else self._of(self.segments + ((str(text), None),))


def badge_markup(b: Badge) -> Md:
    """The cell Markdown of a :class:`Badge` (text escaped like any cell)."""
    return Md(
        "".join(
            f'<span class="initlab-badge initlab-badge--{kind}">{_escape_text(text, table=True)}</span>'
            if kind
            else _escape_text(text, table=True)
            for text, kind in b.segments
        )
    )
