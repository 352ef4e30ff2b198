"""Configurations worth trying first in the explorer, picked from health.csv by rule (never typed).

:func:`examples` walks the health records in their order (the grid's order: init, then activation,
then norm) and, for each rule below in turn, takes the FIRST record that satisfies it and whose
activation no earlier pick has (so the picks show different activations), else the first record that
satisfies it at all; a rule that no record satisfies gives nothing, and a configuration is picked at
most once.

=============  =====================================================================================
``label_key``  rule
=============  =====================================================================================
``healthy``    no normalization, forward and backward ``ok`` (``healthy``, analysis/health.py)
``vanishes``   no normalization, forward ``vanishes`` with a last-layer std above 0: the signal fades
               layer by layer (an all-zero init, std exactly 0 from layer 1, is the trivial case;
               taken only when no other configuration vanishes)
``diverged``   no normalization, at least one seed diverged (``first_diverged`` is set); when no run
               diverged, ``explodes`` instead: forward label ``explodes``
``bn_rescues`` batch normalization (``bn``) healthy where the same init and activation without it are not
=============  =====================================================================================

The label keys name UI strings (``explorer.example.<label_key>`` in the catalogs); the explorer shows the
picks as links. pandas only (analysis layer: no sentences).
"""

from __future__ import annotations

import math

import pandas as pd

LABEL_KEYS = ("healthy", "vanishes", "diverged", "explodes", "bn_rescues")
NO_NORM, BN = "none", "bn"


def _first(rows: list[dict], pred, used: set) -> dict | None:
    """The first row satisfying ``pred`` whose activation is not in ``used``, else the first at all."""
    hits = [r for r in rows if pred(r)]
    return next((r for r in hits if r["activation"] not in used), hits[0] if hits else None)


def _diverged(r: dict) -> bool:
    fd = r.get("first_diverged")
    return fd is not None and not (isinstance(fd, float) and math.isnan(fd))


def examples(health: pd.DataFrame) -> list[dict]:
    """``[{"init", "activation", "norm", "label_key"}, ...]`` in the order of :data:`LABEL_KEYS`
    (``explodes`` only when no run diverged); ``health``: health.csv rows (generator/contract/health.py)."""
    rows = health.to_dict("records")
    plain = [r for r in rows if r["norm"] == NO_NORM]
    healthy_plain = {(r["init"], r["activation"]) for r in plain if bool(r["healthy"])}
    plain_pairs = {(r["init"], r["activation"]) for r in plain}
    rules = [
        ("healthy", plain, lambda r: bool(r["healthy"])),
        ("vanishes", plain, lambda r: r["forward"] == "vanishes" and float(r["last_std"]) > 0),
        ("vanishes", plain, lambda r: r["forward"] == "vanishes"),  # the all-zero case, when nothing else
        ("diverged", plain, _diverged),
        ("explodes", plain, lambda r: r["forward"] == "explodes"),  # only when no run diverged
        (
            "bn_rescues",
            rows,
            lambda r: (
                r["norm"] == BN and bool(r["healthy"]) and (r["init"], r["activation"]) in plain_pairs - healthy_plain
            ),
        ),
    ]
    out: list[dict] = []
    seen: set[tuple[str, str, str]] = set()
    keys: set[str] = set()
    used: set[str] = set()
    for key, pool, pred in rules:
        if key in keys or (key == "explodes" and "diverged" in keys):
            continue
        r = _first([r for r in pool if (r["init"], r["activation"], r["norm"]) not in seen], pred, used)
        if r is None:
            continue
        seen.add((r["init"], r["activation"], r["norm"]))
        keys.add(key)
        used.add(r["activation"])
        out.append(
            {"init": str(r["init"]), "activation": str(r["activation"]), "norm": str(r["norm"]), "label_key": key}
        )
    return out
